package functions_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/functions/alert-system/alertsystemapp"
	"github.com/stockalert/stockalert/functions/data-collector/datacollectorapp"
	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

const botToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// route is a function behind the test's gateway: a reverse proxy to its process that records the
// status of every answer once the function has given it.
type route struct {
	proxy *httputil.ReverseProxy

	mu       sync.Mutex
	statuses []int
}

func newRoute(t testing.TB, base string) *route {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	return &route{proxy: httputil.NewSingleHostReverseProxy(u)}
}

func (r *route) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	r.proxy.ServeHTTP(rec, req)
	r.mu.Lock()
	r.statuses = append(r.statuses, rec.status)
	r.mu.Unlock()
}

// answered returns the statuses the function answered, in order.
func (r *route) answered() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.statuses)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// TestPipelineInProcess runs the functions through their shipped composition roots (faas.Run on
// loopback ports, configured by environment and secrets as in production) in one process:
// user-commands registers a user, data-collector prices AAPL from a fake Yahoo Finance and publishes
// to an embedded Kafka (the roots use the production topic names, so never a shared cluster), the
// kafka-connector delivers the event to alert-system and its alert to alert-notifier through a
// gateway that lists and routes to them, and a fake Telegram receives the message. The store is
// SQLite, or MySQL when MYSQL_DSN is set. What only the shipped wiring gives is checked too: the
// notifier waits out Telegram's flood control in place, and every function serves its use-case
// metrics.
func TestPipelineInProcess(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	tg := telegramtest.NewServer(t, botToken)
	brokers := kafkatest.Embedded(t)

	// Every function shares the store and the broker, as on one OpenFaaS, each with an environment of
	// its own (never the test process's: the test can run in parallel with others).
	with := sharedEnv(t, brokers, 3)
	userCommands := faastest.Start(t, usercommandsapp.Name, usercommandsapp.Wire, nil,
		with(map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL()}))
	dataCollector := faastest.Start(t, datacollectorapp.Name, datacollectorapp.Wire, nil,
		with(map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL()}))
	alertSystem := faastest.Start(t, alertsystemapp.Name, alertsystemapp.Wire, nil, with(nil))
	notifierEnv := faastest.Env(t, map[string]string{"telegram-bot-token": botToken}, with(map[string]string{"TELEGRAM_API_URL": tg.URL()}))
	alertNotifier := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire, notifierEnv)
	store := faastest.Store(t, notifierEnv)

	// The gateway: the provider API the connector reads, and the function routes.
	evaluator, notifier := newRoute(t, alertSystem), newRoute(t, alertNotifier)
	gateway := serveGateway(t, map[string]http.Handler{
		alertsystemapp.Name: evaluator, alertnotifierapp.Name: notifier,
		usercommandsapp.Name: newRoute(t, userCommands), datacollectorapp.Name: newRoute(t, dataCollector),
	})
	runConnector(t, gateway, brokers, 3, nil)

	// Register through the API, with the chat the alerts must reach (Yahoo knows the symbol).
	quotes.SetQuote("AAPL", 75, "USD", time.Now().Add(-2*time.Hour))
	res, err := http.Post(gateway+"/function/user-commands/users", "application/json",
		strings.NewReader(`{"email":"pat@example.com","ticker":"AAPL","high_value":100,"low_value":50,"telegram_chat_id":4242}`))
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusCreated, res.StatusCode)

	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	run := func(price float64, minute int) {
		t.Helper()
		quotes.SetQuote("AAPL", price, "USD", t0.Add(time.Duration(minute)*time.Minute))
		// As the cron-connector triggers it.
		res, err := http.Post(gateway+"/function/data-collector", "", nil)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		require.Equal(t, http.StatusOK, res.StatusCode, string(body))
		var rep struct {
			Quoted       int    `json:"quoted"`
			PublishError string `json:"publish_error"`
		}
		require.NoError(t, json.Unmarshal(body, &rep))
		require.Equal(t, 1, rep.Quoted)
		require.Empty(t, rep.PublishError)
	}
	// evaluated waits until alert-system has answered n price events: the alerts they raised are
	// then in Kafka (it publishes its outbox before it answers).
	evaluated := func(n int) {
		t.Helper()
		require.Eventually(t, func() bool { return len(evaluator.answered()) == n }, time.Minute, 20*time.Millisecond,
			"alert-system handled %d price events", n)
		require.Equal(t, slices.Repeat([]int{http.StatusNoContent}, n), evaluator.answered())
	}
	alertsFor := func(chat int64) int {
		n := 0
		for _, m := range tg.Messages() {
			require.Equal(t, chat, m.ChatID, "an alert went to another chat")
			if strings.Contains(m.Text, "AAPL is above") {
				n++
			}
		}
		return n
	}

	// First breach: exactly one message, to the user's chat.
	run(150, 1)
	evaluated(1)
	require.Eventually(t, func() bool { return alertsFor(4242) == 1 }, time.Minute, 20*time.Millisecond)
	require.Eventually(t, func() bool { return len(notifier.answered()) == 1 }, time.Minute, 20*time.Millisecond)

	// Still out of range, within the user's interval: nothing more. Alerts are keyed by user, so an
	// alert raised now would reach the chat before the next one (below): seeing that the next message
	// is the next breach's proves there was none.
	run(155, 2)
	evaluated(2)
	require.Equal(t, 1, alertsFor(4242))

	// Back in range (re-arms), then out again: one more message — though Telegram first answers 429
	// with retry_after 1: the shipped notifier waits it out in place instead of failing the delivery.
	tg.FailNext("sendMessage", http.StatusTooManyRequests, "", 1)
	run(75, 3)
	evaluated(3)
	run(160, 4)
	evaluated(4)
	require.Eventually(t, func() bool { return alertsFor(4242) == 2 }, time.Minute, 20*time.Millisecond)
	// The notifier logs the delivery after Telegram took the message: wait for its answer.
	require.Eventually(t, func() bool { return len(notifier.answered()) >= 2 }, time.Minute, 20*time.Millisecond)
	msgs := tg.Messages()
	require.Len(t, msgs, 2)
	require.Contains(t, msgs[1].Text, "Price: 160", "the second message is the second breach's: none came in between")
	require.Equal(t, []int{http.StatusNoContent, http.StatusNoContent}, notifier.answered(),
		"each alert delivered at its first attempt: the flood-control pause was waited out in place")
	require.Equal(t, 3, tg.Calls("sendMessage"), "one message refused with 429, then sent")
	require.Zero(t, storetest.Count(t, store.DB(), "outbox", ""), "every event was published")
	require.Equal(t, 2, storetest.Count(t, store.DB(), "notifications", "state = 'sent'"))

	// Each function serves the metrics its shipped wiring registers: the runtime's and its use cases'.
	for base, want := range map[string][]string{
		userCommands: {
			`faas_http_requests_total{code="201",function="user-commands",method="post",route="POST /users"} 1`,
			`stockalert_usecase_duration_seconds_count{kind="command",name="RegisterUser",outcome="ok"} 1`,
		},
		dataCollector: {
			`stockalert_usecase_duration_seconds_count{kind="command",name="RecordPrices",outcome="ok"} 4`,
			// Each run publishes to-alert-system, then to-notifier (quiet-hours summaries, notices).
			`stockalert_usecase_duration_seconds_count{kind="command",name="PublishOutbox",outcome="ok"} 8`,
			`stockalert_usecase_duration_seconds_count{kind="command",name="ReleaseHeldAlerts",outcome="ok"} 4`,
			`stockalert_collector_runs_total{outcome="ok"} 4`,
		},
		alertSystem: {
			`stockalert_usecase_duration_seconds_count{kind="command",name="EvaluatePrice",outcome="ok"} 4`,
			`stockalert_usecase_duration_seconds_count{kind="command",name="PublishOutbox",outcome="ok"} 4`,
		},
		alertNotifier: {
			`stockalert_usecase_duration_seconds_count{kind="command",name="SendAlert",outcome="ok"} 2`,
			`stockalert_usecase_duration_seconds_count{kind="command",name="RecordNotification",outcome="ok"} 2`,
		},
	} {
		metrics := get(t, base+faas.MetricsPath)
		for _, w := range want {
			require.True(t, strings.Contains(metrics, w), "the metrics of %s lack %s", base, w)
		}
	}
}

func get(t *testing.T, target string) string {
	t.Helper()
	res, err := http.Get(target)
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode, "GET %s", target)
	return string(body)
}
