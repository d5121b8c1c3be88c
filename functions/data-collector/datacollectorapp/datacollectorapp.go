// Package datacollectorapp is the composition root of the data-collector function, triggered by cron:
// it prices every subscribed ticker from the configured quote source (Yahoo Finance behind a circuit
// breaker, or the simulated random walk), records the quotes and publishes one event per new quote to
// Kafka topic to-alert-system (stockalert.TopicPrices) through the store's outbox. With
// COLLECTOR_FANOUT_BATCH set it prices nothing itself: it publishes the tickers in work batches of
// that size to to-quote-collector (stockalert.TopicCollect), through the outbox too, for the
// quote-collector replicas to price (functions/quote-collector). Either way it releases the
// quiet-hours summaries to to-notifier. Its main package and the tests run this wiring.
//
// Secrets (file in secret_mount_path, else the environment variable):
//
//	mysql-dsn                MYSQL_DSN                 optional: SQLite at SQLITE_PATH otherwise
//
// Environment: QUOTE_SOURCE (yahoo, the default, or simulated); COLLECTOR_CONCURRENCY,
// COLLECTOR_QUOTE_TIMEOUT, COLLECTOR_MAX_TICKERS, COLLECTOR_FANOUT_BATCH and QUOTE_MAX_AGE; UNVERIFIED_SYMBOL_MAX_MISSES (runs
// that may find a symbol accepted unverified unknown before its subscriptions are dropped, each user
// told on to-notifier) (a quote older than it is recorded but announces no
// event; shared/collector); YAHOO_FINANCE_URL, YAHOO_TIMEOUT, YAHOO_USER_AGENT,
// YAHOO_BREAKER_FAILURES, YAHOO_BREAKER_OPEN_TIMEOUT, YAHOO_BREAKER_HALF_OPEN_REQUESTS,
// YAHOO_COOKIE_URL, YAHOO_CRUMB_URL, YAHOO_BATCH_SIZE, YAHOO_RATE_LIMIT, YAHOO_RATE_BURST,
// YAHOO_THROTTLE_HOLD and YAHOO_HANDSHAKE_RETRY (shared/yahoo; its connection pool is sized to
// COLLECTOR_CONCURRENCY); SIMULATED_SEED and SIMULATED_VOLATILITY (shared/randomwalk); KAFKA_BROKERS
// (required), KAFKA_CLIENT_ID, KAFKA_WRITE_TIMEOUT, KAFKA_BATCH_TIMEOUT, KAFKA_BATCH_SIZE,
// KAFKA_MAX_ATTEMPTS, KAFKA_AUTO_CREATE_TOPICS, KAFKA_TOPIC_PARTITIONS and KAFKA_TOPIC_REPLICATION
// (shared/kafka); SQLITE_PATH, IDEMPOTENCY_TTL and DB_MAX_OPEN_CONNS (shared/sqlstore/configured); and
// the function runtime's (port, bind, exec_timeout, max_body_bytes, log_format… see
// shared/faas.Config).
package datacollectorapp

import (
	"context"
	"fmt"
	"net/http"

	"github.com/stockalert/stockalert/shared/collector"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/edge/trigger"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/kafka"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/quotesource"
	"github.com/stockalert/stockalert/shared/sqlstore/configured"
	"github.com/stockalert/stockalert/shared/stockalert"
)

type config struct {
	Quotes quotesource.Config
	// UnverifiedMaxMisses is how many runs may find a symbol accepted unverified unknown before it is
	// dropped, with a notice to its users.
	UnverifiedMaxMisses int `env:"UNVERIFIED_SYMBOL_MAX_MISSES" envDefault:"3"`
	Collector           collector.Config
	Topics              kafka.TopicSettings
}

// Name is the function's name in stack.yml, its logs and its metrics.
const Name = "data-collector"

// Wire is the function's faas.Wiring: it builds the cron-triggered handler (trigger.Cron) that runs
// one collection per request and answers its collector.Report as JSON, with the use cases' logging and
// metrics on p. Errors: bad configuration (an unknown QUOTE_SOURCE; KAFKA_BROKERS is required), or a
// store that cannot be opened or migrated.
func Wire(ctx context.Context, p *faas.Process) (http.Handler, error) {
	var cfg config
	if err := p.Parse(&cfg); err != nil {
		return nil, err
	}
	// One connection per batch in flight, kept between runs.
	cfg.Quotes.Yahoo.Conns = cfg.Collector.Concurrency
	source, err := quotesource.Open(cfg.Quotes, p.Logger, p.Registry)
	if err != nil {
		return nil, err
	}
	if cfg.Quotes.Source == "simulated" {
		p.Logger.Info("quote source: simulated random walk", "seed", cfg.Quotes.Simulated.Seed, "volatility", cfg.Quotes.Simulated.Volatility)
	}

	store, err := configured.OpenFrom(ctx, p.Env, p.Secrets, p.Logger)
	if err != nil {
		return nil, err
	}
	p.Attach("database", store)

	kcfg, err := kafka.ConfigFrom(p.Env)
	if err != nil {
		return nil, err
	}
	pub, err := kafka.NewPublisher(kcfg, p.Logger, p.Registry)
	if err != nil {
		return nil, err
	}
	pub.EnsureTopicsFirst(cfg.Topics.Specs(stockalert.TopicPrices, stockalert.TopicAlerts, stockalert.TopicCollect)...)
	p.Defer(pub.Close)

	m, err := decorator.NewMetrics(p.Registry)
	if err != nil {
		return nil, err
	}
	if cfg.UnverifiedMaxMisses < 1 {
		return nil, fmt.Errorf("UNVERIFIED_SYMBOL_MAX_MISSES must be at least 1, got %d", cfg.UnverifiedMaxMisses)
	}
	c, err := collector.New(cfg.Collector, source, collector.Handlers{
		Tickers: query.NewDistinctTickersHandler(store, p.Logger, m),
		Record:  command.NewRecordPricesHandler(store, stockalert.TopicPrices, p.Logger, m),
		Publish: command.NewPublishOutboxHandler(store, pub, p.Logger, m),
		Purge:   command.NewPurgeIdempotencyKeysHandler(store, p.Logger, m),
		Unverified: command.NewTrackUnverifiedSymbolsHandler(store, stockalert.TopicAlerts, cfg.UnverifiedMaxMisses,
			cfg.Collector.Now, p.Logger, m),
		Release:  command.NewReleaseHeldAlertsHandler(store, stockalert.TopicAlerts, cfg.Collector.Now, p.Logger, m),
		Dispatch: command.NewQueueCollectWorkHandler(store, stockalert.TopicCollect, p.Logger, m),
	}, p.Logger, m, p.Registry)
	if err != nil {
		return nil, err
	}
	return trigger.Cron(func(ctx context.Context) (trigger.Report, error) { return c.Run(ctx) }, p.Logger), nil
}
