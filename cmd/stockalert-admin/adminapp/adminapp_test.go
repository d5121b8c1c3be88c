package adminapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/stockalert/stockalert/cmd/stockalert-admin/adminapp"
	"github.com/stockalert/stockalert/kafkaconnector"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/deadport"
	"github.com/stockalert/stockalert/shared/kafka"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/mysql"
	"github.com/stockalert/stockalert/shared/sqlstore/sqlite"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// env is one test's store (opened the way the command opens it, each run anew) and a seed store on
// the same database.
type env struct {
	t     *testing.T
	ctx   context.Context
	deps  adminapp.Deps
	store *sqlstore.Store
}

// newEnv opens a scratch database: MySQL when MYSQL_DSN is set, SQLite otherwise.
func newEnv(t *testing.T, brokers []string) *env {
	ctx := context.Background()
	var open func(ctx context.Context) (*sqlstore.Store, error)
	if os.Getenv("MYSQL_DSN") != "" {
		dsn := storetest.ScratchMySQL(t)
		open = func(ctx context.Context) (*sqlstore.Store, error) { return mysql.Open(ctx, dsn, mysql.Options{}) }
	} else {
		path := filepath.Join(t.TempDir(), "stockalert.db")
		open = func(ctx context.Context) (*sqlstore.Store, error) { return sqlite.Open(ctx, path) }
	}
	s, err := open(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return &env{t: t, ctx: ctx, deps: adminapp.Deps{OpenStore: open, Brokers: brokers}, store: s}
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the command with stdin answering (terminal says whether a person could).
func (e *env) run(stdin string, terminal bool, args ...string) result {
	e.t.Helper()
	var out, errOut bytes.Buffer
	code := adminapp.Run(e.ctx, e.deps, args, adminapp.IO{Stdin: strings.NewReader(stdin), StdinIsTerminal: terminal,
		Stdout: &out, Stderr: &errOut})
	return result{code, out.String(), errOut.String()}
}

func (e *env) jsonOf(v any, args ...string) {
	e.t.Helper()
	r := e.run("", false, append(args, "--json")...)
	require.Equal(e.t, 0, r.code, "%v: %s", args, r.stderr)
	require.NoError(e.t, json.Unmarshal([]byte(r.stdout), v), r.stdout)
}

// register registers email watching tickers and returns its token.
func (e *env) register(email string, tickers ...string) string {
	e.t.Helper()
	token := stockalert.NewSecret()
	require.NoError(e.t, command.NewRegisterUserHandler(e.store, nil, nil).Handle(e.ctx, command.RegisterUser{
		Email: email, Ticker: tickers[0], TokenHash: stockalert.HashSecret(token), LinkCodeHash: stockalert.HashSecret(token + "c")}))
	for _, tk := range tickers[1:] {
		require.NoError(e.t, command.NewSubscribeHandler(e.store, nil, nil).Handle(e.ctx, command.Subscribe{Email: email, Ticker: tk}))
	}
	return token
}

func (e *env) authenticates(email, token string) bool {
	_, err := query.NewAuthenticateHandler(e.store, nil, nil).Handle(e.ctx, query.Authenticate{Email: email, Token: token})
	return err == nil
}

func TestUsers(t *testing.T) {
	e := newEnv(t, nil)
	annToken := e.register("ann@example.com", "AAPL", "MSFT")
	e.register("bob@example.org", "MSFT")
	_, err := e.store.LinkTelegram(e.ctx, stockalert.HashSecret(annToken+"c"), 77, false)
	require.NoError(t, err)
	ann, err := e.store.UserByEmail(e.ctx, "ann@example.com")
	require.NoError(t, err)
	chat := int64(77)
	require.NoError(t, e.store.RecordNotification(e.ctx, command.RecordNotification{
		Alert:  stockalert.AlertEvent{EventID: "ev-1", Email: "ann@example.com", Ticker: "AAPL", Condition: stockalert.Above, Price: 201, Threshold: 200},
		UserID: ann.ID, ChatID: &chat, State: stockalert.Failed, Error: "telegram: 500"}))

	t.Run("list", func(t *testing.T) {
		var all []map[string]any
		e.jsonOf(&all, "users", "list")
		require.Len(t, all, 2)
		require.Equal(t, "ann@example.com", all[0]["email"])
		require.Equal(t, []any{"AAPL", "MSFT"}, all[0]["tickers"])
		require.Equal(t, 77.0, all[0]["telegram_chat_id"])
		require.Nil(t, all[1]["telegram_chat_id"])
		for _, k := range []string{"id", "email", "telegram_chat_id", "paused", "created_at", "tickers"} {
			require.Contains(t, all[0], k)
		}
		var some []map[string]any
		e.jsonOf(&some, "users", "list", "--ticker", "msft")
		require.Len(t, some, 2)
		e.jsonOf(&some, "users", "list", "--chat", "77")
		require.Len(t, some, 1)
		require.Equal(t, "ann@example.com", some[0]["email"])
		e.jsonOf(&some, "users", "list", "--email", "BOB")
		require.Len(t, some, 1)
		require.Equal(t, "bob@example.org", some[0]["email"])

		r := e.run("", false, "users", "list")
		require.Equal(t, 0, r.code)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		require.Len(t, lines, 3)
		require.Regexp(t, `^ID\s+EMAIL\s+CHAT\s+PAUSED\s+CREATED\s+TICKERS$`, lines[0])
		require.Regexp(t, `^\d+\s+ann@example.com\s+77\s+false\s+\S+\s+AAPL,MSFT$`, lines[1])
		require.Equal(t, strings.Index(lines[0], "EMAIL"), strings.Index(lines[1], "ann@"), "aligned columns")

		r = e.run("", false, "users", "list", "--chat", "abc")
		require.Equal(t, adminapp.ExitUsage, r.code)
		require.Contains(t, r.stderr, "--chat")
		r = e.run("", false, "users", "list", "--ticker", "no/such")
		require.Equal(t, adminapp.ExitUsage, r.code)
		require.Contains(t, r.stderr, "ticker")
	})

	t.Run("show", func(t *testing.T) {
		var show struct {
			User          map[string]any   `json:"user"`
			Interval      int64            `json:"notify_interval_s"`
			Subscriptions []map[string]any `json:"subscriptions"`
			Alerts        []map[string]any `json:"alerts"`
		}
		e.jsonOf(&show, "users", "show", "ANN@example.com")
		require.Equal(t, "ann@example.com", show.User["email"])
		require.Equal(t, int64(3600), show.Interval)
		require.Len(t, show.Subscriptions, 2)
		require.Equal(t, "AAPL", show.Subscriptions[0]["ticker"])
		require.Len(t, show.Alerts, 1)
		require.Equal(t, "ev-1", show.Alerts[0]["event_id"])
		require.Equal(t, "failed", show.Alerts[0]["state"])
		require.Equal(t, "telegram: 500", show.Alerts[0]["last_error"])

		r := e.run("", false, "users", "show", "ann@example.com")
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "ev-1")
		require.Regexp(t, `(?m)^MSFT\s+-\s+-\s+armed\s+-$`, r.stdout)

		r = e.run("", false, "users", "show", "nobody@example.com")
		require.Equal(t, adminapp.ExitError, r.code)
		require.Equal(t, "stockalert-admin: no user nobody@example.com\n", r.stderr)
		r = e.run("", false, "users", "show", "not an email")
		require.Equal(t, adminapp.ExitUsage, r.code)
	})

	t.Run("revoke-token", func(t *testing.T) {
		r := e.run("", false, "users", "revoke-token", "ann@example.com")
		require.Equal(t, adminapp.ExitError, r.code)
		require.Contains(t, r.stderr, "stdin is not a terminal")
		require.Contains(t, r.stderr, "--yes")
		require.True(t, e.authenticates("ann@example.com", annToken), "refused: nothing changed")

		var out struct{ Email, Token string }
		e.jsonOf(&out, "users", "revoke-token", "ann@example.com", "--yes")
		require.Equal(t, "ann@example.com", out.Email)
		require.False(t, e.authenticates("ann@example.com", annToken), "the old token stopped working")
		require.True(t, e.authenticates("ann@example.com", out.Token), "the printed token works")
	})

	t.Run("delete", func(t *testing.T) {
		r := e.run("", false, "users", "delete", "bob@example.org")
		require.Equal(t, adminapp.ExitError, r.code)
		require.Contains(t, r.stderr, "refusing to delete user bob@example.org")
		require.Contains(t, r.stderr, "add --yes")
		_, err := e.store.UserByEmail(e.ctx, "bob@example.org")
		require.NoError(t, err, "refused: still there")

		r = e.run("n\n", true, "users", "delete", "bob@example.org")
		require.Equal(t, adminapp.ExitError, r.code)
		require.Contains(t, r.stderr, "Delete user bob@example.org with their rules and notification log? [y/N]")
		require.Contains(t, r.stderr, "not confirmed")
		_, err = e.store.UserByEmail(e.ctx, "bob@example.org")
		require.NoError(t, err, "answered no: still there")

		r = e.run("y\n", true, "users", "delete", "bob@example.org")
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, "deleted user bob@example.org\n", r.stdout)
		_, err = e.store.UserByEmail(e.ctx, "bob@example.org")
		require.ErrorIs(t, err, stockalert.ErrNotFound)

		r = e.run("", false, "users", "delete", "--yes", "ann@example.com", "--json")
		require.Equal(t, 0, r.code, r.stderr)
		require.JSONEq(t, `{"deleted":"ann@example.com"}`, r.stdout)
		require.Zero(t, storetest.Count(t, e.store.DB(), "notifications", ""), "the log went with the user")

		r = e.run("", false, "users", "delete", "--yes", "ann@example.com")
		require.Equal(t, adminapp.ExitError, r.code)
		require.Equal(t, "stockalert-admin: no user ann@example.com\n", r.stderr)
	})

	t.Run("usage", func(t *testing.T) {
		r := e.run("", false, "users", "frobnicate")
		require.Equal(t, adminapp.ExitUsage, r.code)
		require.Contains(t, r.stderr, `unknown command "users frobnicate"`)
		require.Contains(t, r.stderr, "usage: stockalert-admin")
		r = e.run("", false, "help")
		require.Equal(t, 0, r.code)
		require.Contains(t, r.stdout, "users revoke-token EMAIL")
	})
}

func TestOutbox(t *testing.T) {
	e := newEnv(t, nil)
	require.NoError(t, e.store.AppendOutbox(e.ctx,
		stockalert.OutboxMessage{Topic: "to-notifier", Key: "ann", Value: []byte("big")},
		stockalert.OutboxMessage{Topic: "to-alert-system", Key: "AAPL", Value: []byte("p")}))
	var ids []int64
	for _, topic := range []string{"to-notifier", "to-alert-system"} {
		m, err := e.store.PendingOutbox(e.ctx, topic, 1)
		require.NoError(t, err)
		ids = append(ids, m[0].ID)
	}
	require.NoError(t, e.store.ParkOutbox(e.ctx,
		stockalert.ParkedMessage{OutboxMessage: stockalert.OutboxMessage{ID: ids[0]}, Reason: "unpublishable: [10] Message Size Too Large"},
		stockalert.ParkedMessage{OutboxMessage: stockalert.OutboxMessage{ID: ids[1]}, Reason: "invalid topic"}))

	var parked []map[string]any
	e.jsonOf(&parked, "outbox", "parked")
	require.Len(t, parked, 2)
	require.Equal(t, float64(ids[0]), parked[0]["id"])
	require.Equal(t, "to-notifier", parked[0]["topic"])
	require.Equal(t, "ann", parked[0]["key"])
	require.Equal(t, 3.0, parked[0]["bytes"])
	require.Contains(t, parked[0]["reason"], "Message Size Too Large")
	e.jsonOf(&parked, "outbox", "parked", "--topic", "to-alert-system")
	require.Len(t, parked, 1)

	id := strconv.FormatInt(ids[0], 10)
	r := e.run("", false, "outbox", "requeue", id)
	require.Equal(t, adminapp.ExitError, r.code)
	require.Contains(t, r.stderr, "add --yes")
	require.Equal(t, 2, storetest.Count(t, e.store.DB(), "outbox_parked", ""), "refused: nothing changed")

	r = e.run("", false, "outbox", "requeue", "x1")
	require.Equal(t, adminapp.ExitUsage, r.code)
	require.Contains(t, r.stderr, `"x1" is not a parked message id`)
	r = e.run("", false, "outbox", "requeue", id, "--all")
	require.Equal(t, adminapp.ExitUsage, r.code)

	r = e.run("", false, "outbox", "requeue", id, "--yes")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "requeued 1")
	pending, err := e.store.PendingOutbox(e.ctx, "to-notifier", 10)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.Equal(t, "big", string(pending[0].Value))

	// Ids that are not parked (requeued already, or never parked): the command fails, naming how many.
	r = e.run("", false, "outbox", "requeue", id, "999999", "--yes")
	require.Equal(t, adminapp.ExitError, r.code, r.stdout)
	require.Contains(t, r.stdout, "requeued 0")
	require.Contains(t, r.stderr, "2 of the 2 ids were not parked")
	require.Equal(t, 1, storetest.Count(t, e.store.DB(), "outbox_parked", ""), "the other parked row stays")

	r = e.run("", false, "outbox", "requeue", "--all", "--yes", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	require.JSONEq(t, `{"requeued":1}`, r.stdout)
	require.Zero(t, storetest.Count(t, e.store.DB(), "outbox_parked", ""))
	require.Equal(t, 1, storetest.Count(t, e.store.DB(), "outbox", "topic = ?", "to-alert-system"))
}

func TestDLQ(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	e := newEnv(t, brokers)
	topic := kafkatest.Topic(t, "admin")
	dlq := kafkaconnector.DeadLetterTopic(topic)
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	require.NoError(t, kafka.EnsureTopics(ctx, brokers,
		kafka.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 1},
		kafka.TopicSpec{Name: dlq, Partitions: 1, ReplicationFactor: 1}))
	// A transport of its own: the shared default one may have cached metadata from before the
	// topics existed and then refuses them with UNKNOWN_TOPIC_OR_PARTITION on a real broker.
	tr := &kafkago.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafkago.Writer{Addr: kafkago.TCP(brokers...), RequiredAcks: kafkago.RequireAll, BatchTimeout: time.Millisecond, Transport: tr}
	defer func() { require.NoError(t, w.Close()) }()
	var msgs []kafkago.Message
	for i := range 2 {
		msgs = append(msgs, kafkago.Message{Topic: dlq, Key: []byte("k" + strconv.Itoa(i)), Value: []byte("v" + strconv.Itoa(i)),
			Headers: []kafkago.Header{{Key: kafkaconnector.DLQHeaderTopic, Value: []byte(topic)},
				{Key: kafkaconnector.DLQHeaderFunction, Value: []byte("alert-notifier")},
				{Key: kafkaconnector.DLQHeaderStatus, Value: []byte("400")},
				{Key: kafkaconnector.DLQHeaderError, Value: []byte("bad\nrequest")}}})
	}
	require.NoError(t, w.WriteMessages(ctx, msgs...))

	var list []map[string]any
	e.jsonOf(&list, "dlq", "list", topic)
	require.Len(t, list, 2)
	require.Equal(t, "k0", list[0]["key"])
	require.Equal(t, "v0", list[0]["value"])
	require.Equal(t, topic, list[0]["topic"])
	require.Equal(t, "400", list[0]["status"])
	require.Equal(t, false, list[0]["redriven"])

	r := e.run("", false, "dlq", "list", topic)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `(?m)^0\s+0\s+\S+\s+dead\s+alert-notifier\s+400\s+.*"k0"\s+bad request$`, r.stdout)

	r = e.run("", false, "dlq", "redrive", topic, "--all")
	require.Equal(t, adminapp.ExitError, r.code)
	require.Contains(t, r.stderr, "add --yes")
	r = e.run("", false, "dlq", "redrive", topic, "--yes")
	require.Equal(t, adminapp.ExitUsage, r.code, "neither --all nor a range")

	r = e.run("", false, "dlq", "redrive", topic, "--all", "--yes", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	require.JSONEq(t, `{"republished":2,"skipped":0}`, r.stdout)
	got := kafkatest.Read(t, brokers, topic, 2, 30*time.Second)
	require.Equal(t, "v0", string(got[0].Value))
	require.Equal(t, "v1", string(got[1].Value))

	e.jsonOf(&list, "dlq", "list", dlq)
	require.Equal(t, true, list[0]["redriven"])
	r = e.run("", false, "dlq", "redrive", topic, "--all", "--yes")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "republished 0, skipped 2 already redriven\n", r.stdout)

	noBroker := &env{t: t, ctx: e.ctx, deps: adminapp.Deps{OpenStore: e.deps.OpenStore}}
	r = noBroker.run("", false, "dlq", "list", topic)
	require.Equal(t, adminapp.ExitUsage, r.code)
	require.Contains(t, r.stderr, "KAFKA_BROKERS is not set")
}

func TestHealth(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	e := newEnv(t, brokers)
	e.register("ann@example.com", "AAPL", "MSFT")
	quoted := time.Now().Add(-time.Minute).Truncate(time.Millisecond).UTC()
	require.NoError(t, command.NewRecordPricesHandler(e.store, stockalert.TopicPrices, nil, nil).Handle(e.ctx,
		command.RecordPrices{Quotes: []stockalert.Quote{{Ticker: "AAPL", Price: 190, Currency: "USD", Time: quoted}}}))

	// A consumer group with lag: one message of a topic of its own, nothing committed past it.
	topic := kafkatest.Topic(t, "health")
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	require.NoError(t, kafka.EnsureTopics(ctx, brokers, kafka.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 1}))
	// A transport of its own: the shared default one may have cached metadata from before the
	// topics existed and then refuses them with UNKNOWN_TOPIC_OR_PARTITION on a real broker.
	tr := &kafkago.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafkago.Writer{Addr: kafkago.TCP(brokers...), RequiredAcks: kafkago.RequireAll, BatchTimeout: time.Millisecond, Transport: tr}
	require.NoError(t, w.WriteMessages(ctx, kafkago.Message{Topic: topic, Value: []byte("1")}, kafkago.Message{Topic: topic, Value: []byte("2")}))
	require.NoError(t, w.Close())
	group := "admin-health-" + strconv.Itoa(os.Getpid())
	cl := &kafkago.Client{Addr: kafkago.TCP(brokers...), Timeout: 30 * time.Second}
	resp, err := cl.OffsetCommit(ctx, &kafkago.OffsetCommitRequest{GroupID: group, GenerationID: -1,
		Topics: map[string][]kafkago.OffsetCommit{topic: {{Partition: 0, Offset: 1}}}})
	require.NoError(t, err)
	for _, ps := range resp.Topics {
		for _, p := range ps {
			require.NoError(t, p.Error)
		}
	}

	var h struct {
		LastRecordedAt *time.Time       `json:"last_recorded_at"`
		Tickers        []map[string]any `json:"tickers"`
		Outbox         []map[string]any `json:"outbox"`
		Parked         []map[string]any `json:"parked"`
		Notifications  map[string]int   `json:"notifications"`
		Lag            []map[string]any `json:"consumer_lag"`
		LagError       string           `json:"consumer_lag_error"`
	}
	e.jsonOf(&h, "health")
	require.NotNil(t, h.LastRecordedAt)
	require.Len(t, h.Tickers, 2)
	require.Equal(t, "AAPL", h.Tickers[0]["ticker"])
	require.Equal(t, quoted.Format(time.RFC3339Nano), h.Tickers[0]["quoted_at"])
	require.Nil(t, h.Tickers[1]["quoted_at"], "MSFT never priced")
	require.Len(t, h.Outbox, 1)
	require.Equal(t, stockalert.TopicPrices, h.Outbox[0]["topic"])
	require.Empty(t, h.Parked)
	require.Equal(t, map[string]int{"sent": 0, "undeliverable": 0, "failed": 0, "sending": 0}, h.Notifications)
	require.Empty(t, h.LagError)
	var lag []map[string]any
	for _, l := range h.Lag {
		if l["group"] == group {
			lag = append(lag, l)
		}
	}
	require.Len(t, lag, 1, "%v", h.Lag)
	require.Equal(t, topic, lag[0]["topic"])
	require.Equal(t, 1.0, lag[0]["lag"])

	r := e.run("", false, "health")
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `(?m)^AAPL\s+1\s+\S+\s+\S+$`, r.stdout)
	require.Regexp(t, `(?m)^to-alert-system\s+1\s+0\s+\S+$`, r.stdout)
	require.Regexp(t, `(?m)^`+group+`\s+\S+\s+`+strings.ReplaceAll(topic, ".", `\.`)+`\s+1$`, r.stdout)

	noBroker := &env{t: t, ctx: e.ctx, deps: adminapp.Deps{OpenStore: e.deps.OpenStore}}
	r = noBroker.run("", false, "health")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "KAFKA_BROKERS is not set")
}

// Run from a directory without the database, the command must not create an empty one and report an
// empty system: it fails naming SQLITE_PATH.
func TestMissingSQLiteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "stockalert.db")
	t.Setenv("SQLITE_PATH", path)
	t.Setenv("MYSQL_DSN", "")
	t.Setenv("secret_mount_path", t.TempDir())
	t.Setenv("KAFKA_BROKERS", "")
	var out, errOut bytes.Buffer
	code := adminapp.Main(context.Background(), []string{"users", "list"},
		adminapp.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	require.Equal(t, adminapp.ExitError, code, errOut.String())
	require.Contains(t, errOut.String(), "SQLITE_PATH")
	require.Contains(t, errOut.String(), "no database at "+path)
	require.Empty(t, out.String())
	_, err := os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "no empty database created")

	// The same file once it exists: the command works.
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o750))
	s, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	out.Reset()
	errOut.Reset()
	code = adminapp.Main(context.Background(), []string{"users", "list", "--json"},
		adminapp.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	require.Equal(t, adminapp.ExitOK, code, errOut.String())
	require.JSONEq(t, `[]`, out.String())
}

// Confirmations need a person at a terminal: a pipe, a file and /dev/null (a character device) are
// not one.
func TestIsTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	defer func() { require.NoError(t, w.Close()) }()
	require.False(t, adminapp.IsTerminal(r), "pipe")
	f, err := os.Create(filepath.Join(t.TempDir(), "stdin"))
	require.NoError(t, err)
	defer func() { require.NoError(t, f.Close()) }()
	require.False(t, adminapp.IsTerminal(f), "file")
	null, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer func() { require.NoError(t, null.Close()) }()
	fi, err := null.Stat()
	require.NoError(t, err)
	require.NotZero(t, fi.Mode()&os.ModeCharDevice, "/dev/null is a character device, which the old check took for a terminal")
	require.False(t, adminapp.IsTerminal(null), os.DevNull)
}

// A broker that is down, or a topic that does not exist, is said in plain words; health still prints
// the store part but fails.
func TestBrokerErrorsInPlainWords(t *testing.T) {
	addr := deadport.Addr(t)
	e := newEnv(t, []string{addr})
	e.register("ann@example.com", "AAPL")

	r := e.run("", false, "dlq", "list", "orders")
	require.Equal(t, adminapp.ExitError, r.code)
	require.Equal(t, "stockalert-admin: cannot reach the Kafka brokers at "+addr+" (KAFKA_BROKERS): is Kafka running?\n", r.stderr)

	r = e.run("", false, "health")
	require.Equal(t, adminapp.ExitError, r.code, r.stdout)
	require.Regexp(t, `(?m)^AAPL\s+1\s+-\s+-$`, r.stdout, "the store part is printed")
	require.Contains(t, r.stdout, "consumer lag  unknown: cannot reach the Kafka brokers at "+addr)
	require.Contains(t, r.stderr, "cannot reach the Kafka brokers at "+addr)
	require.NotContains(t, r.stderr+r.stdout, "dial tcp")

	brokers := kafkatest.Embedded(t, kfake.NumBrokers(1))
	withBroker := &env{t: t, ctx: e.ctx, deps: adminapp.Deps{OpenStore: e.deps.OpenStore, Brokers: brokers}}
	r = withBroker.run("", false, "dlq", "list", "no-such-topic")
	require.Equal(t, adminapp.ExitError, r.code)
	require.Equal(t, "stockalert-admin: topic no-such-topic.dlq does not exist\n", r.stderr)
}
