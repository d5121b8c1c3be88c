package collector_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/collector"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/deadport"
	"github.com/stockalert/stockalert/shared/kafka"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

type rig struct {
	store   *sqlstore.Store
	yahoo   *yahootest.Server
	client  *yahoo.Client
	brokers []string
	topic   string
	// work is the topic of a fanned-out run's batches (stockalert.TopicCollect in production).
	work string
	// logger is what the collector and its use cases log to (nothing, unless a test looks).
	logger *slog.Logger
	// now is the collector's clock: half an hour after the quotes the tests set (2026-03-02 15:00 UTC).
	now func() time.Time
	// maxQuoteAge is the collector's QUOTE_MAX_AGE (0: the default).
	maxQuoteAge time.Duration
	// maxTickers is the collector's COLLECTOR_MAX_TICKERS (0: the default).
	maxTickers int
	// notices is the topic of the notices about dropped symbols; maxMisses UNVERIFIED_SYMBOL_MAX_MISSES.
	notices   string
	maxMisses int
	// metrics is the registry of the last collector built.
	metrics *prometheus.Registry
}

func newRig(t *testing.T) *rig {
	fake := yahootest.NewServer(t)
	client, err := yahoo.New(yahoo.Config{BaseURL: fake.URL(), Timeout: 2 * time.Second, UserAgent: "test",
		BreakerFailures: 3, BreakerOpenTimeout: time.Minute, BreakerHalfOpenRequests: 1}, slog.New(slog.DiscardHandler), nil)
	require.NoError(t, err)
	return &rig{store: storetest.Open(t), yahoo: fake, client: client, brokers: kafkatest.Brokers(t), topic: kafkatest.Topic(t, "prices"),
		work:    kafkatest.Topic(t, "collect"),
		notices: kafkatest.Topic(t, "notices"), maxMisses: 3,
		logger: slog.New(slog.DiscardHandler), now: func() time.Time { return time.Date(2026, 3, 2, 15, 30, 0, 0, time.UTC) }}
}

// collector builds a Collector wired as the data-collector function wires it, publishing to brokers.
func (r *rig) collector(t *testing.T, brokers []string) *collector.Collector {
	t.Helper()
	return r.collectorWith(t, brokers, 3)
}

// collectorWith is collector with attempts produce attempts of 2 s each: the publish of a run gives up
// after attempts × 3 s.
func (r *rig) collectorWith(t *testing.T, brokers []string, attempts int) *collector.Collector {
	t.Helper()
	return r.collectorAdjusted(t, brokers, attempts, nil)
}

// collectorAdjusted is collectorWith, its configuration and handlers changed by adjust (when not nil)
// before the collector is built.
func (r *rig) collectorAdjusted(t *testing.T, brokers []string, attempts int, adjust func(*collector.Config, *collector.Handlers)) *collector.Collector {
	t.Helper()
	cfg := kafka.NewConfig(brokers...)
	cfg.WriteTimeout = 2 * time.Second
	cfg.MaxAttempts = attempts
	pub, err := kafka.NewPublisher(cfg, slog.New(slog.DiscardHandler), nil)
	require.NoError(t, err)
	pub.EnsureTopicsFirst(kafka.TopicSettings{Partitions: 3, ReplicationFactor: 1}.Specs(r.topic, r.notices, r.work)...)
	t.Cleanup(func() {
		if err := pub.Close(); err != nil {
			t.Errorf("close publisher: %v", err)
		}
	})
	ccfg := collector.Config{Concurrency: 4, QuoteTimeout: 3 * time.Second, Topic: r.topic,
		MaxQuoteAge: r.maxQuoteAge, MaxTickers: r.maxTickers, Now: r.now, NoticeTopic: r.notices}
	h := collector.Handlers{
		Tickers:    query.NewDistinctTickersHandler(r.store, r.logger, nil),
		Record:     command.NewRecordPricesHandler(r.store, r.topic, r.logger, nil),
		Publish:    command.NewPublishOutboxHandler(r.store, pub, r.logger, nil),
		Purge:      command.NewPurgeIdempotencyKeysHandler(r.store, r.logger, nil),
		Unverified: command.NewTrackUnverifiedSymbolsHandler(r.store, r.notices, r.maxMisses, r.now, r.logger, nil),
	}
	if adjust != nil {
		adjust(&ccfg, &h)
	}
	c, err := collector.New(ccfg, r.client, h, r.logger, nil, r.newMetrics())
	require.NoError(t, err)
	return c
}

func (r *rig) newMetrics() *prometheus.Registry {
	r.metrics = prometheus.NewRegistry()
	return r.metrics
}

func (r *rig) subscribe(t *testing.T, email string, tickers ...string) {
	t.Helper()
	reg := command.NewRegisterUserHandler(r.store, nil, nil)
	require.NoError(t, reg.Handle(context.Background(), command.RegisterUser{Email: email, Ticker: tickers[0],
		TokenHash: stockalert.HashSecret(email), LinkCodeHash: stockalert.HashSecret(email + "c")}))
	sub := command.NewSubscribeHandler(r.store, nil, nil)
	for _, tk := range tickers[1:] {
		require.NoError(t, sub.Handle(context.Background(), command.Subscribe{Email: email, Ticker: tk}))
	}
}

func TestRunPricesEachTickerOnceRecordsAndPublishes(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	r.yahoo.SetQuote("AAPL", 190.5, "USD", at)
	r.yahoo.SetQuote("MSFT", 410, "USD", at)
	r.subscribe(t, "a@example.com", "AAPL", "MSFT")
	r.subscribe(t, "b@example.com", "AAPL")

	rep, err := r.collector(t, r.brokers).Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, rep.Tickers)
	require.Equal(t, 2, rep.Quoted)
	require.Empty(t, rep.Failed)
	require.Empty(t, rep.PublishError)
	require.Equal(t, "closed", rep.Breaker)
	require.Equal(t, 1, r.yahoo.Requests("AAPL"), "one request per distinct ticker")
	require.Equal(t, 1, r.yahoo.Requests("MSFT"))

	msgs := kafkatest.Read(t, r.brokers, r.topic, 2, 30*time.Second)
	got := map[string]stockalert.PriceEvent{}
	for _, m := range msgs {
		var ev stockalert.PriceEvent
		require.NoError(t, json.Unmarshal(m.Value, &ev))
		require.Equal(t, string(ev.Ticker), string(m.Key), "keyed by ticker")
		got[string(ev.Ticker)] = ev
	}
	require.Equal(t, 190.5, got["AAPL"].Price)
	require.True(t, at.Equal(got["AAPL"].Time))
	require.Equal(t, "USD", got["MSFT"].Currency)
	require.Zero(t, storetest.Count(t, r.store.DB(), "outbox", ""), "published events leave the outbox")
	require.Equal(t, 2, storetest.Count(t, r.store.DB(), "prices", ""))

	rep, err = r.collector(t, r.brokers).Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, rep.Quoted)
	require.Zero(t, storetest.Count(t, r.store.DB(), "outbox", ""), "an unchanged quote is not published twice")
	require.Equal(t, 2, storetest.Count(t, r.store.DB(), "prices", ""))
}

func TestRunReportsUnknownAndFailingTickersAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	r.yahoo.SetQuote("AAPL", 190.5, "USD", at)
	r.yahoo.Fail("MSFT", 503, 100)
	r.subscribe(t, "a@example.com", "AAPL", "MSFT", "NOSUCH")

	rep, err := r.collector(t, r.brokers).Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 3, rep.Tickers)
	require.Equal(t, 1, rep.Quoted)
	require.Equal(t, []stockalert.Ticker{"NOSUCH"}, rep.Unknown)
	require.Equal(t, []stockalert.Ticker{"MSFT"}, rep.Failed)
	require.Equal(t, 1, storetest.Count(t, r.store.DB(), "prices", ""))
}

func TestTheBreakerOpensAfterRepeatedFailuresAndRunsFailFast(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.yahoo.Fail("", 500, 1000)
	r.subscribe(t, "a@example.com", "AAPL", "MSFT", "GOOG", "NVDA")
	c := r.collector(t, r.brokers)

	rep, err := c.Run(context.Background())
	require.NoError(t, err)
	require.Len(t, rep.Failed, 4)
	require.Equal(t, "open", rep.Breaker)
	before := r.yahoo.Requests("")
	rep, err = c.Run(context.Background())
	require.NoError(t, err)
	require.Len(t, rep.Failed, 4)
	require.Equal(t, before, r.yahoo.Requests(""), "an open breaker sends nothing")
}

func TestARunOverlappingARunningOneDoesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.yahoo.Hang("AAPL", 1)
	r.subscribe(t, "a@example.com", "AAPL")
	c := r.collector(t, r.brokers)

	// The first run hangs on Yahoo until it is cancelled, once the second has been skipped.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = c.Run(ctx) // its outcome is the other tests' business
	}()
	require.Eventually(t, func() bool { return r.yahoo.Requests("AAPL") == 1 }, 10*time.Second, 10*time.Millisecond)
	rep, err := c.Run(context.Background())
	require.NoError(t, err)
	require.True(t, rep.Skipped)
	cancel()
	wg.Wait()
	require.Equal(t, 1, r.yahoo.Requests("AAPL"), "the skipped run asked nothing")
}

func TestEventsSurviveAKafkaOutageAndGoOutWithTheNextRun(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	r.yahoo.SetQuote("AAPL", 190.5, "USD", at)
	r.subscribe(t, "a@example.com", "AAPL")

	down := deadport.Addr(t)
	// One attempt: the publish gives up on the dead broker after 3 s rather than 9.
	rep, err := r.collectorWith(t, []string{down}, 1).Run(context.Background())
	require.NoError(t, err, "a broker outage does not fail the run")
	require.NotEmpty(t, rep.PublishError)
	require.Equal(t, 1, storetest.Count(t, r.store.DB(), "prices", ""), "the price is recorded")
	require.Equal(t, 1, storetest.Count(t, r.store.DB(), "outbox", ""), "its event waits in the outbox")

	r.yahoo.SetQuote("AAPL", 191, "USD", at.Add(time.Minute))
	rep, err = r.collector(t, r.brokers).Run(context.Background())
	require.NoError(t, err)
	require.Empty(t, rep.PublishError)
	msgs := kafkatest.Read(t, r.brokers, r.topic, 2, 30*time.Second)
	var prices []float64
	for _, m := range msgs {
		var ev stockalert.PriceEvent
		require.NoError(t, json.Unmarshal(m.Value, &ev))
		prices = append(prices, ev.Price)
	}
	require.Equal(t, []float64{190.5, 191}, prices, "the held-back event first, then the new one")
	require.Zero(t, storetest.Count(t, r.store.DB(), "outbox", ""))
}

// A run's summary is the one line its use-case decorator writes: the console event of `make run`.
func TestARunSaysWhatItDidOnOneLine(t *testing.T) {
	r := newRig(t)
	var buf bytes.Buffer
	r.logger = slog.New(slog.NewJSONHandler(&buf, nil))
	r.yahoo.SetQuote("AAPL", 190.5, "USD", time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	r.subscribe(t, "a@example.com", "AAPL")

	_, err := r.collector(t, r.brokers).Run(context.Background())
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1, "one line at Info or above for one run: %s", buf.String())
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
	for k, want := range map[string]any{"level": "INFO", "msg": "collector run", "event": "collector-run", "command": "Collect",
		"outcome": "ok", "tickers": 1.0, "quoted": 1.0, "unknown": 0.0, "failed": 0.0, "breaker": "closed", "publish_error": ""} {
		require.Equal(t, want, rec[k], "%s in %v", k, rec)
	}
}
