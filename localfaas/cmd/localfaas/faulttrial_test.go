package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/openfaas/faas-provider/auth"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	_ "modernc.org/sqlite" // the trial reads the pipeline's SQLite file

	"github.com/stockalert/stockalert/localfaas/internal/lftest"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// The topics of the repository's stack.yml (its annotations and the collector's and alert-system's
// outbox topics) and the connector's dead-letter suffix (kafkaconnector.DeadLetterSuffix).
const (
	trialPriceTopic = "to-alert-system"
	trialAlertTopic = "to-notifier"
	trialDLQSuffix  = ".dlq"
	// The connector's retry topics (kafkaconnector.RetrySuffix), when it has them: a message that
	// failed for a transient reason waits there, without holding up its partition.
	trialRetrySuffix = ".retry"
)

// trialConfig is the fault trial's shape, from FAULT_TRIAL_* variables (see the README's Tests section).
type trialConfig struct {
	users, tickers int
	duration       time.Duration // of the load phase: prices move and faults are injected
	faultEvery     time.Duration // one fault every faultEvery, cycling through faults
	faults         []string      // kill, broker, flood, 500
	settle         time.Duration // the longest wait for the pipeline to go quiet after the load phase
	schedule       string        // COLLECTOR_SCHEDULE
}

func trialConfigFromEnv(t *testing.T) trialConfig {
	t.Helper()
	cfg := trialConfig{users: 40, tickers: 4, duration: 150 * time.Second, faultEvery: 15 * time.Second,
		faults: []string{"kill", "broker", "flood", "500"}, settle: 10 * time.Minute, schedule: "@every 2s"}
	ints := map[string]*int{"FAULT_TRIAL_USERS": &cfg.users, "FAULT_TRIAL_TICKERS": &cfg.tickers}
	for name, dst := range ints {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				t.Fatalf("%s=%q: want a positive whole number", name, v)
			}
			*dst = n
		}
	}
	durations := map[string]*time.Duration{"FAULT_TRIAL_DURATION": &cfg.duration, "FAULT_TRIAL_FAULT_EVERY": &cfg.faultEvery,
		"FAULT_TRIAL_SETTLE": &cfg.settle}
	for name, dst := range durations {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				t.Fatalf("%s=%q: want a positive duration such as 90s", name, v)
			}
			*dst = d
		}
	}
	if v, ok := os.LookupEnv("FAULT_TRIAL_FAULTS"); ok {
		cfg.faults = nil
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			switch f {
			case "":
			case "kill", "broker", "flood", "500":
				cfg.faults = append(cfg.faults, f)
			default:
				t.Fatalf("FAULT_TRIAL_FAULTS: unknown fault %q (want kill, broker, flood, 500)", f)
			}
		}
	}
	if v := os.Getenv("FAULT_TRIAL_SCHEDULE"); v != "" {
		cfg.schedule = v
	}
	cfg.tickers = min(cfg.tickers, cfg.users)
	return cfg
}

// TestFaultTrial is the fault trial of `make trial` (not part of `make test`: it takes minutes; it
// runs only with FAULT_TRIAL=1). It runs `make run` itself — the localfaas program on the repository's
// stack.yml, every function its own process — against a fake Yahoo Finance, a fake Telegram Bot API
// and a Kafka broker of its own (kfake, in this process, so that it can be restarted). It registers
// FAULT_TRIAL_USERS users through the gateway, links each to a chat with /start <code> and sets their
// repeat interval to 0 with /set 0 (both through the long-poll forwarder and telegram-bot), so that
// every new price alerts every subscriber of the ticker: prices alternate above the high and below the
// low threshold, a new one every collector run. While the prices move it injects, in turn: kill -9 of
// the alert-notifier three times in a row (localfaas restarts it with backoff), a broker restart
// (closed, down 5 s, reopened on its data folder and port), a bot-wide Telegram flood (429 with a
// retry_after of 12 s, longer than TELEGRAM_MAX_RETRY_AFTER) and a storm of 15 Telegram 500s.
//
// Then it waits until the pipeline is quiet (no outbox row left, no consumer lag on any topic, every
// expected alert received or dead-lettered) and counts, from what the collector published on
// to-alert-system and whom each ticker's price concerns: alerts expected, delivered once, duplicated,
// lost (never received: by cause), and the messages on every .dlq topic. It fails if any alert is
// lost; duplicates are reported but allowed (a notifier killed between Telegram's answer and recording
// the delivery sends that one message again on redelivery).
func TestFaultTrial(t *testing.T) {
	if os.Getenv("FAULT_TRIAL") != "1" {
		t.Skip("the fault trial takes minutes: run it with make trial (FAULT_TRIAL=1)")
	}
	if os.Getenv("MYSQL_DSN") != "" {
		t.Log("the fault trial runs on SQLite: MYSQL_DSN is ignored")
	}
	cfg := trialConfigFromEnv(t)
	broker := startTrialBroker(t)
	yahoo := yahootest.NewServer(t)
	tg := telegramtest.NewServer(t, e2eBotToken)

	users := trialUsers(cfg)
	q := newQuoteDriver(yahoo, cfg.tickers)
	q.inside() // no alert until every user is linked

	p := startProgram(t, filepath.Join("..", "..", "..", "stack.yml"),
		"KAFKA_BROKERS="+broker.addr, "MYSQL_DSN=", "FUNCTION_LOGS=notable",
		"COLLECTOR_SCHEDULE="+cfg.schedule, "QUOTE_SOURCE=yahoo", "YAHOO_FINANCE_URL="+yahoo.URL(),
		"PUBLIC_WRITES_PER_MINUTE=0", // the trial registers its users from one address
		"TELEGRAM_BOT_TOKEN="+e2eBotToken, "TELEGRAM_API_URL="+tg.URL(), "TELEGRAM_BOT_USERNAME=stockalert_test_bot",
		"TELEGRAM_WEBHOOK_SECRET=")
	p.waitReady(3 * time.Minute)
	creds := &auth.BasicAuthCredentials{User: "admin", Password: p.password()}
	db := openTrialDB(t, filepath.Join(p.data, "stockalert.db"))

	// Users: registered through the gateway, linked and set to interval 0 through the bot.
	for i := range users {
		u := &users[i]
		res := lftest.Call(t, http.MethodPost, p.gateway+"/function/user-commands/users", nil,
			map[string]any{"email": u.email, "ticker": u.ticker, "high_value": trialHigh, "low_value": trialLow})
		lftest.ExpectStatus(t, res, http.StatusCreated, "register "+u.email)
		u.code = lftest.Decode[struct {
			Code string `json:"telegram_link_code"`
		}](t, res).Code
		tg.PushText(u.chat, "/start "+u.code)
		tg.PushText(u.chat, "/set 0")
	}
	p.waitFor(2*time.Minute, "every chat linked with interval 0", func() bool {
		done := map[int64]int{}
		for _, m := range tg.Messages() {
			if strings.HasPrefix(m.Text, "Linked to") || strings.HasPrefix(m.Text, "Done: while a ticker stays out of range") {
				done[m.ChatID]++
			}
		}
		for _, u := range users {
			if done[u.chat] < 2 {
				return false
			}
		}
		return true
	})
	t.Logf("%d users linked on %d tickers; load for %s with faults %v every %s", len(users), cfg.tickers, cfg.duration, cfg.faults, cfg.faultEvery)

	// Load: a new price on every ticker per collector period, alternating sides; faults in turn.
	loadCtx, stopLoad := context.WithCancel(t.Context())
	every, err := scheduleEvery(cfg.schedule)
	if err != nil {
		t.Fatal(err)
	}
	var driving sync.WaitGroup
	driving.Go(func() { q.drive(loadCtx, every) })
	started := time.Now()
	var injected []string
	for i := 0; ; i++ {
		next := started.Add(time.Duration(i+1) * cfg.faultEvery)
		if next.After(started.Add(cfg.duration)) || len(cfg.faults) == 0 {
			break
		}
		time.Sleep(time.Until(next))
		f := cfg.faults[i%len(cfg.faults)]
		injected = append(injected, f+": "+injectFault(t, p, creds, broker, tg, f))
	}
	time.Sleep(time.Until(started.Add(cfg.duration)))
	stopLoad()
	driving.Wait()
	loadEnded := time.Now()

	// Quiet: nothing left in the outbox, no consumer lag, every expected alert received or dead-lettered.
	var c trialCount
	quiet := false
	for deadline := time.Now().Add(cfg.settle); time.Now().Before(deadline); {
		select {
		case err := <-p.exited:
			t.Fatalf("localfaas exited (%v) while the trial waited for the pipeline to go quiet", err)
		case <-time.After(2 * time.Second):
		}
		c = countTrial(t, broker.addr, db, tg, users)
		if c.outbox == 0 && c.lag == 0 && len(c.pending) == 0 {
			quiet = true
			break
		}
	}
	settled := time.Since(loadEnded)

	report := c.table(cfg, injected, loadEnded.Sub(started), settled, tg)
	t.Log("\n" + report)
	fmt.Println(report) // the trial's result, also when its test log is not shown
	if !quiet {
		t.Errorf("the pipeline did not go quiet within FAULT_TRIAL_SETTLE=%s: %d outbox rows, consumer lag %d, %d alerts neither received nor dead-lettered",
			cfg.settle, c.outbox, c.lag, len(c.pending))
	}
	if c.lost() > 0 {
		t.Errorf("%d of %d alerts lost", c.lost(), c.expected)
		t.Log("\n" + c.lostDetail(db, p.stderr.String()))
	}
	p.interrupt()
}

// The thresholds every trial user watches; prices alternate above trialHigh and below trialLow.
const (
	trialHigh = 100.0
	trialLow  = 60.0
)

type trialUser struct {
	email, ticker, code string
	chat                int64
}

func trialUsers(cfg trialConfig) []trialUser {
	users := make([]trialUser, cfg.users)
	for i := range users {
		users[i] = trialUser{
			email:  fmt.Sprintf("trial-%04d@example.com", i),
			ticker: trialTicker(i % cfg.tickers),
			chat:   int64(910000 + i),
		}
	}
	return users
}

func trialTicker(i int) string { return fmt.Sprintf("TRL%d", i) }

// quoteDriver moves the fake Yahoo's prices: each step gives every ticker a new quote time and a
// price no step used before, above the high threshold on even steps and below the low one on odd steps.
type quoteDriver struct {
	yahoo   *yahootest.Server
	tickers int
	step    int
	last    time.Time
}

func newQuoteDriver(y *yahootest.Server, tickers int) *quoteDriver {
	return &quoteDriver{yahoo: y, tickers: tickers}
}

func (q *quoteDriver) quoteTime() time.Time {
	at := time.Now().Truncate(time.Second)
	if !at.After(q.last) {
		at = q.last.Add(time.Second)
	}
	q.last = at
	return at
}

// inside quotes every ticker inside the range.
func (q *quoteDriver) inside() {
	at := q.quoteTime()
	for i := range q.tickers {
		q.yahoo.SetQuote(trialTicker(i), (trialHigh+trialLow)/2, "USD", at)
	}
}

func (q *quoteDriver) next() {
	q.step++
	at := q.quoteTime()
	for i := range q.tickers {
		price := trialHigh + 100 + float64(q.step)/100
		if q.step%2 == 1 {
			price = trialLow - 10 - float64(q.step)/100 // distinct at two decimals for 5,000 steps
		}
		q.yahoo.SetQuote(trialTicker(i), price, "USD", at)
	}
}

func (q *quoteDriver) drive(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		q.next()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// scheduleEvery is the period of an "@every D" schedule (the trial's price pace); a cron spec moves
// prices once a minute.
func scheduleEvery(spec string) (time.Duration, error) {
	if d, ok := strings.CutPrefix(spec, "@every "); ok {
		every, err := time.ParseDuration(d)
		if err != nil {
			return 0, fmt.Errorf("FAULT_TRIAL_SCHEDULE %q: %w", spec, err)
		}
		return every, nil
	}
	return time.Minute, nil
}

// injectFault injects one fault and says what it did.
func injectFault(t *testing.T, p *program, creds *auth.BasicAuthCredentials, broker *trialBroker, tg *telegramtest.Server, fault string) string {
	t.Helper()
	switch fault {
	case "kill":
		// Three kills in a row, each as soon as the restarted notifier is ready: the connector meets no
		// ready replica for several seconds at a time (localfaas restarts with a growing backoff).
		from := time.Now()
		bin := filepath.Join(p.data, "bin", "alert-notifier")
		for range 3 {
			pid := processOf(t, bin)
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatalf("kill alert-notifier %d: %v", pid, err)
			}
			p.waitFor(time.Minute, "the notifier back", func() bool {
				next, _ := processesOf(bin)
				return len(next) == 1 && next[0] != pid && available(t, p.gateway, creds.Password, "alert-notifier") == 1
			})
		}
		return fmt.Sprintf("alert-notifier killed -9 three times, ready again after %s", time.Since(from).Round(100*time.Millisecond))
	case "broker":
		down := broker.restart(t, 5*time.Second)
		return fmt.Sprintf("broker restarted (down %s)", down.Round(100*time.Millisecond))
	case "flood":
		const window = 12 * time.Second
		tg.Flood(0, window)
		return fmt.Sprintf("Telegram flood control for the whole bot: 429 retry_after up to %d s for %s", int(window.Seconds()), window)
	case "500":
		const n = 15
		for range n {
			tg.FailNext("sendMessage", http.StatusInternalServerError, "Internal Server Error", 0)
		}
		return fmt.Sprintf("%d sendMessage answered 500 Internal Server Error", n)
	}
	t.Fatalf("unknown fault %q", fault)
	return ""
}

// processOf returns the pid of the one live process running the program bin (the function's log may
// have dropped its start line under load, so /proc is asked).
func processOf(t *testing.T, bin string) int {
	t.Helper()
	pids, err := processesOf(bin)
	if err != nil || len(pids) != 1 {
		t.Fatalf("processes of %s: %v %v, want one", bin, pids, err)
	}
	return pids[0]
}

// processesOf lists the live processes (not zombies) running the program bin, from /proc/<pid>/exe.
func processesOf(bin string) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == bin {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// trialBroker is a single-broker kfake in this process with its data in a folder, so that it can be
// stopped and started again on the same port with its topics, messages and consumer offsets.
type trialBroker struct {
	mu      sync.Mutex
	cluster *kfake.Cluster
	addr    string
	dir     string
	port    int
}

func startTrialBroker(t *testing.T) *trialBroker {
	t.Helper()
	b := &trialBroker{dir: filepath.Join(t.TempDir(), "kafka")}
	b.start(t)
	_, port, err := net.SplitHostPort(b.addr)
	if err != nil {
		t.Fatal(err)
	}
	b.port, _ = strconv.Atoi(port)
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.cluster != nil {
			b.cluster.Close()
		}
	})
	return b
}

func (b *trialBroker) start(t *testing.T) {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.DefaultNumPartitions(3), kfake.ClusterID("fault-trial"), kfake.DataDir(b.dir)}
	if b.port != 0 {
		opts = append(opts, kfake.Ports(b.port))
	}
	var c *kfake.Cluster
	var err error
	for range 50 { // the port of the closed broker may take a moment to be free again
		if c, err = kfake.NewCluster(opts...); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("start the trial's broker: %v", err)
	}
	b.mu.Lock()
	b.cluster, b.addr = c, c.ListenAddrs()[0]
	b.mu.Unlock()
}

// restart stops the broker, keeps it down for down, and starts it again; it returns how long it was
// unreachable.
func (b *trialBroker) restart(t *testing.T, down time.Duration) time.Duration {
	t.Helper()
	from := time.Now()
	b.mu.Lock()
	b.cluster.Close()
	b.cluster = nil
	b.mu.Unlock()
	time.Sleep(down)
	b.start(t)
	return time.Since(from)
}

func openTrialDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// alertKey names one alert as a user sees it: chat, ticker and price (two decimals, as shown).
type alertKey struct {
	chat   int64
	ticker string
	price  string
}

func (k alertKey) String() string { return fmt.Sprintf("chat %d %s at %s", k.chat, k.ticker, k.price) }

// trialCount is what the trial measured.
type trialCount struct {
	priceEvents, priceEventsDLQ int
	expected                    int
	raised                      map[alertKey][]string // alert ids on to-notifier
	dlqReason                   map[alertKey]string   // the dlq-status and dlq-error headers of a dead-lettered alert
	received                    map[alertKey]int
	once, duplicated, extra     int
	unexpected                  int
	notRaised, alertDLQ         []alertKey
	pending                     []alertKey     // neither received nor dead-lettered (yet)
	dlq, retried                map[string]int // messages on each dead-letter and retry topic
	dlqWhy                      map[string]int // dead letters by topic, dlq-status and dlq-error
	alertMessages, alertIDs     int            // messages on to-notifier, distinct alert ids among them
	outbox, parked              int            // rows left in the outbox, rows parked as unpublishable
	lag                         int64
}

func (c trialCount) lost() int { return len(c.notRaised) + len(c.alertDLQ) + len(c.pending) }

var alertText = regexp.MustCompile(`^🔔 (\S+) is (?:still )?(?:above|below) your (?:high|low) threshold of [^\n]*\nPrice: ([0-9.]+)`)

// countTrial reads what the collector published (to-alert-system), what the alert system raised
// (to-notifier), the dead-letter topics, the outbox, the consumer lag and what the fake Telegram
// received, and counts.
func countTrial(t *testing.T, addr string, db *sql.DB, tg *telegramtest.Server, users []trialUser) trialCount {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c := trialCount{raised: map[alertKey][]string{}, dlqReason: map[alertKey]string{}, dlqWhy: map[string]int{}, retried: map[string]int{}, received: map[alertKey]int{}, dlq: map[string]int{}}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatalf("list topics: %v", err)
	}
	type priceEvent struct {
		Ticker string  `json:"ticker"`
		Price  float64 `json:"price"`
	}
	type alertEvent struct {
		EventID string  `json:"event_id"`
		Email   string  `json:"email"`
		Ticker  string  `json:"ticker"`
		Price   float64 `json:"price"`
	}
	chatOf := map[string]int64{}
	byTicker := map[string][]trialUser{}
	for _, u := range users {
		chatOf[u.email] = u.chat
		byTicker[u.ticker] = append(byTicker[u.ticker], u)
	}

	prices := map[priceEvent]bool{}
	for _, r := range readTopic(ctx, t, cl, adm, trialPriceTopic) {
		var ev priceEvent
		if json.Unmarshal(r.Value, &ev) == nil {
			prices[ev] = true
		}
	}
	deadPrices := map[priceEvent]bool{}
	deadAlerts := map[alertKey]bool{}
	for _, name := range topics.Names() {
		if strings.HasSuffix(name, trialRetrySuffix) {
			c.retried[name] = len(readTopic(ctx, t, cl, adm, name))
		}
		if !strings.HasSuffix(name, trialDLQSuffix) {
			continue
		}
		recs := readTopic(ctx, t, cl, adm, name)
		c.dlq[name] = len(recs)
		for _, r := range recs {
			why := map[string]string{}
			for _, h := range r.Headers {
				why[h.Key] = string(h.Value)
			}
			c.dlqWhy[fmt.Sprintf("%s: status %s: %.80s", name, why["dlq-status"], why["dlq-error"])]++
			switch strings.TrimSuffix(name, trialDLQSuffix) {
			case trialPriceTopic:
				var ev priceEvent
				if json.Unmarshal(r.Value, &ev) == nil {
					deadPrices[ev] = true
				}
			case trialAlertTopic:
				var a alertEvent
				if json.Unmarshal(r.Value, &a) == nil {
					k := alertKey{chatOf[a.Email], a.Ticker, strconv.FormatFloat(a.Price, 'f', 2, 64)}
					deadAlerts[k] = true
					var why []string
					for _, h := range r.Headers {
						if h.Key == "dlq-status" || h.Key == "dlq-error" || h.Key == "dlq-attempts" {
							why = append(why, h.Key+"="+string(h.Value))
						}
					}
					c.dlqReason[k] = strings.Join(why, " ")
				}
			}
		}
	}
	ids := map[string]bool{}
	// Outbox rows the relays parked as unpublishable never reach Kafka: count them as dead letters.
	rows, err := db.QueryContext(ctx, `SELECT topic, payload, reason FROM outbox_parked`)
	if err != nil {
		t.Fatalf("read parked outbox rows: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var topic, reason string
		var payload []byte
		if err := rows.Scan(&topic, &payload, &reason); err != nil {
			t.Fatalf("read parked outbox rows: %v", err)
		}
		c.parked++
		c.dlqWhy[fmt.Sprintf("%s (parked in the outbox): %.80s", topic, reason)]++
		switch topic {
		case trialPriceTopic:
			var ev priceEvent
			if json.Unmarshal(payload, &ev) == nil {
				prices[ev], deadPrices[ev] = true, true
			}
		case trialAlertTopic:
			var a alertEvent
			if json.Unmarshal(payload, &a) == nil {
				k := alertKey{chatOf[a.Email], a.Ticker, strconv.FormatFloat(a.Price, 'f', 2, 64)}
				deadAlerts[k], c.dlqReason[k] = true, "parked in the outbox: "+reason
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read parked outbox rows: %v", err)
	}
	for _, r := range readTopic(ctx, t, cl, adm, trialAlertTopic) {
		c.alertMessages++
		var a alertEvent
		if json.Unmarshal(r.Value, &a) == nil {
			ids[a.EventID] = true
			k := alertKey{chatOf[a.Email], a.Ticker, strconv.FormatFloat(a.Price, 'f', 2, 64)}
			if !slices.Contains(c.raised[k], a.EventID) {
				c.raised[k] = append(c.raised[k], a.EventID)
			}
		}
	}
	c.alertIDs = len(ids)
	for _, m := range tg.Messages() {
		if g := alertText.FindStringSubmatch(m.Text); g != nil {
			c.received[alertKey{m.ChatID, g[1], g[2]}]++
		}
	}

	expected := map[alertKey]bool{}
	for ev := range prices {
		if ev.Price > trialLow && ev.Price < trialHigh {
			continue // the quote before the load phase: inside every range
		}
		c.priceEvents++
		if deadPrices[ev] {
			c.priceEventsDLQ++
		}
		for _, u := range byTicker[ev.Ticker] {
			k := alertKey{u.chat, ev.Ticker, strconv.FormatFloat(ev.Price, 'f', 2, 64)}
			expected[k] = true
			switch n := c.received[k]; {
			case n == 1:
				c.once++
			case n > 1:
				c.duplicated++
				c.extra += n - 1
			case deadAlerts[k]:
				c.alertDLQ = append(c.alertDLQ, k)
			case len(c.raised[k]) == 0 && deadPrices[ev]:
				c.notRaised = append(c.notRaised, k)
			default:
				c.pending = append(c.pending, k)
			}
		}
	}
	c.expected = len(expected)
	for k := range c.received {
		if !expected[k] {
			c.unexpected++
		}
	}

	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&c.outbox); err != nil {
		t.Fatalf("count outbox rows: %v", err)
	}
	c.lag = consumerLag(ctx, t, adm, topics)
	// An alert never raised although its price event was evaluated (the outbox is empty and nothing is
	// left to consume) will never come: it is lost, not pending.
	if c.outbox == 0 && c.lag == 0 {
		var still []alertKey
		for _, k := range c.pending {
			if len(c.raised[k]) == 0 {
				c.notRaised = append(c.notRaised, k)
			} else {
				still = append(still, k)
			}
		}
		c.pending = still
	}
	return c
}

// readTopic reads every record of topic, from the start to the end offsets it has now.
func readTopic(ctx context.Context, t *testing.T, cl *kgo.Client, adm *kadm.Client, topic string) []*kgo.Record {
	t.Helper()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	want := map[int32]int64{}
	assign := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset > 0 {
			want[o.Partition] = o.Offset
			assign[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	if len(want) == 0 {
		return nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: assign})
	defer cl.RemoveConsumePartitions(map[string][]int32{topic: slices.Collect(maps.Keys(want))})
	var out []*kgo.Record
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %s: %v", topic, err)
		}
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) {
				t.Logf("read %s: %v", topic, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			if r.Topic != topic {
				return
			}
			out = append(out, r)
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return out
}

// consumerLag sums, over every consumer group, the messages of the topics it consumes that it has not
// committed, and counts as lag every message of a topic no group has committed on (but a dead-letter
// topic, which nobody consumes).
func consumerLag(ctx context.Context, t *testing.T, adm *kadm.Client, topics kadm.TopicDetails) int64 {
	t.Helper()
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatalf("list groups: %v", err)
	}
	lags, err := adm.Lag(ctx, listed.Groups()...)
	if err != nil {
		t.Fatalf("consumer lag: %v", err)
	}
	var total int64
	consumed := map[string]bool{}
	lags.Each(func(l kadm.DescribedGroupLag) {
		if l.Error() != nil {
			total++ // not known yet: not quiet
			return
		}
		total += l.Lag.Total()
		for topic := range l.Lag {
			consumed[topic] = true
		}
	})
	var unconsumed []string
	for _, name := range topics.Names() {
		if !consumed[name] && !strings.HasSuffix(name, trialDLQSuffix) && !strings.HasPrefix(name, "__") {
			unconsumed = append(unconsumed, name)
		}
	}
	if len(unconsumed) > 0 {
		ends, err := adm.ListEndOffsets(ctx, unconsumed...)
		if err != nil {
			t.Fatalf("end offsets: %v", err)
		}
		ends.Each(func(o kadm.ListedOffset) {
			if o.Err == nil {
				total += o.Offset
			}
		})
	}
	return total
}

// table renders the trial's result.
func (c trialCount) table(cfg trialConfig, faults []string, load, settled time.Duration, tg *telegramtest.Server) string {
	var b strings.Builder
	fmt.Fprintf(&b, "fault trial: %d users on %d tickers, collector %s, prices moving for %s, quiet %s after that\n",
		cfg.users, cfg.tickers, cfg.schedule, load.Round(time.Second), settled.Round(time.Second))
	for _, f := range faults {
		fmt.Fprintf(&b, "  fault  %s\n", f)
	}
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, v any) { _, _ = fmt.Fprintf(w, "%v\t  %s\n", v, name) }
	row("price events (published on to-alert-system or parked)", c.priceEvents)
	row("  of which dead-lettered or parked", c.priceEventsDLQ)
	row("alerts expected (each price event × the ticker's subscribers)", c.expected)
	row("delivered exactly once", c.once)
	row("duplicated (alerts received more than once)", c.duplicated)
	row("  extra messages", c.extra)
	row("lost", c.lost())
	row("  never raised", len(c.notRaised))
	row("  dead-lettered (to-notifier.dlq or parked)", len(c.alertDLQ))
	row("  not delivered when the trial ended", len(c.pending))
	row("unexpected alert messages", c.unexpected)
	for _, name := range slices.Sorted(maps.Keys(c.dlq)) {
		row("messages on "+name, c.dlq[name])
	}
	for _, name := range slices.Sorted(maps.Keys(c.retried)) {
		row("messages on "+name+" (retried later)", c.retried[name])
	}
	row("messages on "+trialAlertTopic, c.alertMessages)
	row("  distinct alert ids among them", c.alertIDs)
	row("sendMessage calls", tg.Calls("sendMessage"))
	row("calls inside a retry_after window", tg.EarlyCalls())
	row("outbox rows left", c.outbox)
	row("outbox rows parked", c.parked)
	row("consumer lag left", c.lag)
	_ = w.Flush()
	for _, why := range slices.Sorted(maps.Keys(c.dlqWhy)) {
		fmt.Fprintf(&b, "  dead letters  %d × %s\n", c.dlqWhy[why], why)
	}
	return b.String()
}

// lostDetail lists up to 20 lost alerts with their notification log entries and the log lines of the
// run that name them or a dead letter, to say which path lost them.
func (c trialCount) lostDetail(db *sql.DB, logs string) string {
	var b strings.Builder
	lost := slices.Concat(c.notRaised, c.alertDLQ, c.pending)
	for i, k := range lost {
		if i == 20 {
			fmt.Fprintf(&b, "… and %d more\n", len(lost)-20)
			break
		}
		fmt.Fprintf(&b, "lost: %s, alert ids %v\n", k, c.raised[k])
		if why, ok := c.dlqReason[k]; ok {
			fmt.Fprintf(&b, "  dead-lettered: %s\n", why)
		}
		for _, id := range c.raised[k] {
			var state, lastErr sql.NullString
			var attempts sql.NullInt64
			err := db.QueryRowContext(context.Background(), `SELECT state, attempts, last_error FROM notifications WHERE event_id = ?`, id).Scan(&state, &attempts, &lastErr)
			if err == nil {
				fmt.Fprintf(&b, "  notification %s: %s after %d attempts: %s\n", id, state.String, attempts.Int64, lastErr.String)
			} else {
				fmt.Fprintf(&b, "  notification %s: %v\n", id, err)
			}
			for line := range strings.Lines(logs) {
				if strings.Contains(line, id) {
					fmt.Fprintf(&b, "  log: %s", line)
				}
			}
		}
	}
	n := 0
	for line := range strings.Lines(logs) {
		if strings.Contains(line, "dead-letter") || strings.Contains(line, "dead letter") || strings.Contains(line, ".dlq") {
			if n++; n <= 20 {
				fmt.Fprintf(&b, "log: %s", line)
			}
		}
	}
	if n > 20 {
		fmt.Fprintf(&b, "… %d dead-letter log lines in all\n", n)
	}
	return b.String()
}
