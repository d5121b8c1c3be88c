package functions_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/kafkaconnector"
	"github.com/stockalert/stockalert/shared/collector"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/edge/httpapi"
	"github.com/stockalert/stockalert/shared/edge/trigger"
	"github.com/stockalert/stockalert/shared/kafka"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

const botToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// counted counts the requests a handler served.
type counted struct {
	n atomic.Int64
	h http.Handler
}

func (c *counted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.h.ServeHTTP(w, r)
	c.n.Add(1)
}

// TestPipelineInProcess chains the functions' handlers, wired as their mains wire them, in one
// process: user-commands registers a user, the collector prices AAPL from a fake Yahoo Finance and
// publishes to Kafka (embedded, or KAFKA_BROKERS), the kafka-connector delivers the event to
// alert-system and its alert to alert-notifier through a gateway that lists and routes to them, and a
// fake Telegram receives the message. The store is SQLite, or MySQL when MYSQL_DSN is set.
func TestPipelineInProcess(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	store := storetest.Open(t)
	quotes := yahootest.NewServer(t)
	tg := telegramtest.NewServer(t, botToken)
	brokers := kafkatest.Brokers(t)
	prices, alerts := kafkatest.Topic(t, "prices"), kafkatest.Topic(t, "alerts")

	pub, err := kafka.NewPublisher(kafka.NewConfig(brokers...), logger, nil)
	require.NoError(t, err)
	t.Cleanup(func() { pub.Close() })
	pub.EnsureTopicsFirst(kafka.TopicSettings{Partitions: 3, ReplicationFactor: 1}.Specs(prices, alerts)...)

	// user-commands
	userCommands := httpapi.NewUserCommands(httpapi.UserCommands{
		RegisterUser:  command.NewRegisterUserHandler(store, logger, nil),
		UpdateUser:    command.NewUpdateUserHandler(store, logger, nil),
		Subscribe:     command.NewSubscribeHandler(store, logger, nil),
		Unsubscribe:   command.NewUnsubscribeHandler(store, logger, nil),
		DeleteUser:    command.NewDeleteUserHandler(store, logger, nil),
		IssueLinkCode: command.NewIssueLinkCodeHandler(store, logger, nil),
		Authenticate:  query.NewAuthenticateHandler(store, logger, nil),
		UserProfile:   query.NewUserProfileHandler(store, logger, nil),
		Once:          store,
		Logger:        logger,
	})
	// data-collector
	source, err := yahoo.New(yahoo.Config{BaseURL: quotes.URL(), Timeout: 2 * time.Second, UserAgent: "test",
		BreakerFailures: 5, BreakerOpenTimeout: time.Minute, BreakerHalfOpenRequests: 1}, logger, nil)
	require.NoError(t, err)
	collect, err := collector.New(collector.Config{Concurrency: 4, QuoteTimeout: 2 * time.Second, Topic: prices}, source, collector.Handlers{
		Tickers: query.NewDistinctTickersHandler(store, logger, nil),
		Record:  command.NewRecordPricesHandler(store, prices, logger, nil),
		Publish: command.NewPublishOutboxHandler(store, pub, logger, nil),
		Purge:   command.NewPurgeIdempotencyKeysHandler(store, logger, nil),
	}, logger, prometheus.NewRegistry())
	require.NoError(t, err)
	// alert-system
	publishAlerts := command.NewPublishOutboxHandler(store, pub, logger, nil)
	evaluate := decorator.ThenRun(command.NewEvaluatePriceHandler(store, alerts, logger, nil), func(ctx context.Context) error {
		return publishAlerts.Handle(ctx, command.PublishOutbox{Topic: alerts})
	})
	alertSystem := &counted{h: trigger.Message(func(ctx context.Context, ev stockalert.PriceEvent) error {
		return evaluate.Handle(ctx, command.EvaluatePrice{Event: ev})
	}, 0, logger)}
	// alert-notifier
	sender, err := telegram.NewSender(botToken, tg.URL())
	require.NoError(t, err)
	send := command.NewSendAlertHandler(store, sender, telegram.FormatAlert, command.NewRecordNotificationHandler(store, logger, nil), logger, nil)
	notifier := &counted{h: trigger.Message(func(ctx context.Context, a stockalert.AlertEvent) error {
		return send.Handle(ctx, command.SendAlert{Alert: a})
	}, 0, logger)}

	// The gateway: the provider API the connector reads, and the function routes.
	fns := []types.FunctionStatus{
		{Name: "alert-system", Namespace: "openfaas-fn", Annotations: &map[string]string{"topic": prices}},
		{Name: "alert-notifier", Namespace: "openfaas-fn", Annotations: &map[string]string{"topic": alerts}},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /system/namespaces", func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode([]string{"openfaas-fn"}) })
	mux.HandleFunc("GET /system/functions", func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(fns) })
	mux.Handle("POST /function/alert-system.openfaas-fn", alertSystem)
	mux.Handle("POST /function/alert-notifier.openfaas-fn", notifier)
	mux.Handle("/function/user-commands/", http.StripPrefix("/function/user-commands", userCommands))
	gateway := httptest.NewServer(mux)
	t.Cleanup(gateway.Close)

	conn, err := kafkaconnector.New(kafkaconnector.Config{
		GatewayURL: gateway.URL, Brokers: brokers, Topics: []string{prices, alerts}, Group: kafkatest.Topic(t, "group"),
		CreateTopics: true, TopicPartitions: 3, RetryInitialInterval: 50 * time.Millisecond, RebuildInterval: time.Second,
		ContentType: "application/json", ShutdownTimeout: 5 * time.Second,
	}, logger, prometheus.NewRegistry())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- conn.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-stopped)
	})

	// Register through the API, with the chat the alerts must reach.
	res, err := http.Post(gateway.URL+"/function/user-commands/users", "application/json",
		strings.NewReader(`{"email":"pat@example.com","ticker":"AAPL","high_value":100,"low_value":50,"telegram_chat_id":4242}`))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)

	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	run := func(price float64, minute int) {
		t.Helper()
		quotes.SetQuote("AAPL", price, "USD", t0.Add(time.Duration(minute)*time.Minute))
		rep, err := collect.Run(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, rep.Quoted)
		require.Empty(t, rep.PublishError)
	}
	evaluated := func(n int64) {
		t.Helper()
		require.Eventually(t, func() bool { return alertSystem.n.Load() == n }, time.Minute, 20*time.Millisecond,
			"alert-system handled %d price events", n)
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
	require.Eventually(t, func() bool { return notifier.n.Load() == 1 }, time.Minute, 20*time.Millisecond)

	// Still out of range, within the user's interval: nothing more.
	run(155, 2)
	evaluated(2)
	time.Sleep(time.Second)
	require.Equal(t, int64(1), notifier.n.Load(), "no second alert was published")
	require.Equal(t, 1, alertsFor(4242))

	// Back in range (re-arms), then out again: one more message.
	run(75, 3)
	evaluated(3)
	run(160, 4)
	evaluated(4)
	require.Eventually(t, func() bool { return alertsFor(4242) == 2 }, time.Minute, 20*time.Millisecond)
	// The notifier logs the delivery after Telegram took the message: wait for its answer.
	require.Eventually(t, func() bool { return notifier.n.Load() == 2 }, time.Minute, 20*time.Millisecond)
	require.Len(t, tg.Messages(), 2)
	require.Zero(t, storetest.Count(t, store.DB(), "outbox", ""), "every event was published")
	require.Equal(t, 2, storetest.Count(t, store.DB(), "notifications", "state = 'sent'"))
}
