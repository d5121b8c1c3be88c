package collector_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stockalert/stockalert/shared/collector"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/kafka"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// benchTickers is the size of the collection the scale goal is about.
const benchTickers = 5000

// noBudget is a request budget no baseline reaches: the path before batching had none.
const noBudget = 1_000_000

// benchLatency is how long the fake upstream takes to answer every request.
const benchLatency = 50 * time.Millisecond

// BenchmarkCollection is one collector run of 5,000 subscribed tickers against the fake Yahoo
// answering every request in 50 ms, with the store (storetest: SQLite, or MYSQL_DSN) and broker
// (kfake, or KAFKA_BROKERS) the tests use. Each iteration re-prices every symbol first, so each run
// records and publishes 5,000 new prices. A first, untimed run warms up (the cookie and crumb
// handshake, the pool's connections: once per process). Metrics: run-s (seconds per collection),
// requests/run (HTTP requests the fake saw per collection) and new-conns/run (TCP connections opened
// per collection: 0 when the pool reuses them).
//
//   - batched: the default settings (COLLECTOR_CONCURRENCY, YAHOO_BATCH_SIZE, YAHOO_RATE_LIMIT… from
//     their env defaults, the pool sized to the concurrency as the data-collector wires it).
//   - sequential: the baseline, one chart request per symbol, one at a time (concurrency 1, batch
//     size 1, no request budget), measured on 100 tickers; run-s and requests/run are scaled to 5,000
//     (×50).
//   - per-symbol: the path before batching, one chart request per symbol at the default concurrency
//     and no request budget (it had none), measured on 1,000 tickers; run-s and requests/run are
//     scaled to 5,000 (×5).
func BenchmarkCollection(b *testing.B) {
	defaults, err := env.ParseAs[collector.Config]()
	if err != nil {
		b.Fatal(err)
	}
	ydefaults, err := env.ParseAs[yahoo.Config]()
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name        string
		tickers     int
		concurrency int
		batchSize   int
		// budget is YAHOO_RATE_LIMIT and YAHOO_RATE_BURST (0: the defaults).
		budget int
	}{
		{"batched", benchTickers, defaults.Concurrency, ydefaults.BatchSize, 0},
		{"sequential", 100, 1, 1, noBudget},
		{"per-symbol", 1000, defaults.Concurrency, 1, noBudget},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			ycfg := ydefaults
			if tc.budget > 0 {
				ycfg.RateLimit, ycfg.RateBurst = float64(tc.budget), tc.budget
			}
			benchCollection(b, defaults, ycfg, tc.tickers, tc.concurrency, tc.batchSize)
		})
	}
}

func benchCollection(b *testing.B, ccfg collector.Config, ycfg yahoo.Config, n, concurrency, batchSize int) {
	fake := yahootest.NewServer(b)
	fake.SetLatency(benchLatency)
	symbols := make([]string, n)
	for i := range symbols {
		symbols[i] = fmt.Sprintf("S%04d", i)
	}
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	price := func(minute int) {
		for i, s := range symbols {
			fake.SetQuote(s, 100+float64(i%97)+float64(minute)/100, "USD", at.Add(time.Duration(minute)*time.Minute))
		}
	}

	store := storetest.Open(b)
	logger := slog.New(slog.DiscardHandler)
	reg := command.NewRegisterUserHandler(store, nil, nil)
	for i, s := range symbols {
		email := fmt.Sprintf("u%d@example.com", i)
		if err := reg.Handle(context.Background(), command.RegisterUser{Email: email, Ticker: s,
			TokenHash: stockalert.HashSecret(email), LinkCodeHash: stockalert.HashSecret(email + "c")}); err != nil {
			b.Fatal(err)
		}
	}

	ycfg.BaseURL = fake.URL()
	ycfg.BatchSize = batchSize
	ycfg.Conns = concurrency
	client, err := yahoo.New(ycfg, logger, nil)
	if err != nil {
		b.Fatal(err)
	}
	brokers := kafkatest.Brokers(b)
	topic, notices := kafkatest.Topic(b, "prices"), kafkatest.Topic(b, "notices")
	pub, err := kafka.NewPublisher(kafka.NewConfig(brokers...), logger, nil)
	if err != nil {
		b.Fatal(err)
	}
	pub.EnsureTopicsFirst(kafka.TopicSettings{Partitions: 3, ReplicationFactor: 1}.Specs(topic, notices)...)
	b.Cleanup(func() { _ = pub.Close() })
	ccfg.Concurrency = concurrency
	ccfg.Topic, ccfg.NoticeTopic = topic, notices
	ccfg.Now = func() time.Time { return at.Add(24 * time.Hour) }
	c, err := collector.New(ccfg, client, collector.Handlers{
		Tickers: query.NewDistinctTickersHandler(store, logger, nil),
		Record:  command.NewRecordPricesHandler(store, topic, logger, nil),
		Publish: command.NewPublishOutboxHandler(store, pub, logger, nil),
		Purge:   command.NewPurgeIdempotencyKeysHandler(store, logger, nil),
	}, logger, nil, prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}

	// A warm-up run, untimed: the handshake and the pool's connections happen there, once per process.
	price(0)
	if _, err := c.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	scale := float64(benchTickers) / float64(n)
	requests, conns := fake.HTTPRequests(""), fake.NewConns()
	var took time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		price(i + 1)
		b.StartTimer()
		start := time.Now()
		rep, err := c.Run(context.Background())
		took += time.Since(start)
		if err != nil || rep.Quoted != n || rep.PublishError != "" {
			b.Fatalf("run: quoted %d of %d, failed %d, publish error %q, err %v", rep.Quoted, n, len(rep.Failed), rep.PublishError, err)
		}
	}
	b.StopTimer()
	runs := float64(b.N)
	b.ReportMetric(took.Seconds()/runs*scale, "run-s")
	b.ReportMetric(float64(fake.HTTPRequests("")-requests)/runs*scale, "requests/run")
	b.ReportMetric(float64(fake.NewConns()-conns)/runs, "new-conns/run")
}
