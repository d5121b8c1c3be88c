// Package quotecollectorapp is the composition root of the quote-collector function, triggered by
// Kafka topic to-quote-collector (stockalert.TopicCollect): for each work batch of a fanned-out
// collection (the data-collector with COLLECTOR_FANOUT_BATCH set) it prices the batch's tickers from
// the configured quote source exactly as the data-collector prices them in one process (the same
// collector step, quote source and settings), records the quotes, tracks the unverified symbols among
// them and publishes one event per new quote to to-alert-system (stockalert.TopicPrices) through the
// store's outbox. Several replicas share a collection: the kafka-connector invokes the function once
// per partition at a time, through the gateway, which spreads the invocations over the replicas
// (README "Scaling"). Its main package and the tests run this wiring.
//
// Answers (shared/edge/trigger): 204 once the batch is recorded (a redelivered batch records and
// announces nothing twice); 400 for a malformed batch (dead-lettered); 500 when every quote of the
// batch failed and its run is within COLLECTOR_FANOUT_RETRY_WINDOW (the connector retries this batch
// alone), or on a store fault.
//
// Secrets (file in secret_mount_path, else the environment variable):
//
//	mysql-dsn                MYSQL_DSN                 optional: SQLite at SQLITE_PATH otherwise
//
// Environment: QUOTE_SOURCE (yahoo, the default, or simulated); COLLECTOR_CONCURRENCY (source calls
// in flight per work batch: Yahoo batches of YAHOO_BATCH_SIZE), COLLECTOR_QUOTE_TIMEOUT, COLLECTOR_FANOUT_RETRY_WINDOW and QUOTE_MAX_AGE
// (shared/collector); UNVERIFIED_SYMBOL_MAX_MISSES; YAHOO_FINANCE_URL, YAHOO_TIMEOUT,
// YAHOO_USER_AGENT, YAHOO_BREAKER_FAILURES, YAHOO_BREAKER_OPEN_TIMEOUT,
// YAHOO_BREAKER_HALF_OPEN_REQUESTS, YAHOO_COOKIE_URL, YAHOO_CRUMB_URL, YAHOO_BATCH_SIZE,
// YAHOO_RATE_LIMIT, YAHOO_RATE_BURST, YAHOO_THROTTLE_HOLD and YAHOO_HANDSHAKE_RETRY (shared/yahoo; the
// breaker, the handshake and the request budget are per replica, the connection pool is sized to
// COLLECTOR_CONCURRENCY); SIMULATED_SEED and
// SIMULATED_VOLATILITY (shared/randomwalk); KAFKA_BROKERS (required) and the other KAFKA_* settings
// (shared/kafka); SQLITE_PATH, IDEMPOTENCY_TTL and DB_MAX_OPEN_CONNS (shared/sqlstore/configured);
// and the function runtime's (port, bind, exec_timeout, max_body_bytes, log_format… see
// shared/faas.Config).
package quotecollectorapp

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
	"github.com/stockalert/stockalert/shared/quotesource"
	"github.com/stockalert/stockalert/shared/sqlstore/configured"
	"github.com/stockalert/stockalert/shared/stockalert"
)

type config struct {
	Quotes quotesource.Config
	// UnverifiedMaxMisses is how many collections may find a symbol accepted unverified unknown before
	// it is dropped, with a notice to its users.
	UnverifiedMaxMisses int `env:"UNVERIFIED_SYMBOL_MAX_MISSES" envDefault:"3"`
	Collector           collector.Config
	Topics              kafka.TopicSettings
}

// Name is the function's name in stack.yml, its logs and its metrics.
const Name = "quote-collector"

// Wire is the function's faas.Wiring: it builds the Kafka-triggered handler (trigger.Message) that
// collects each stockalert.CollectWork (collector.Collector.CollectBatch), with the use cases' logging
// and metrics on p. Errors: bad configuration (an unknown QUOTE_SOURCE; KAFKA_BROKERS is required), or
// a store that cannot be opened or migrated.
func Wire(ctx context.Context, p *faas.Process) (http.Handler, error) {
	var cfg config
	if err := p.Parse(&cfg); err != nil {
		return nil, err
	}
	if cfg.UnverifiedMaxMisses < 1 {
		return nil, fmt.Errorf("UNVERIFIED_SYMBOL_MAX_MISSES must be at least 1, got %d", cfg.UnverifiedMaxMisses)
	}
	// A batch is priced here, never dispatched again.
	cfg.Collector.FanOut.Batch = 0
	// One connection per batch in flight, kept between invocations, as in the data-collector.
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
	pub.EnsureTopicsFirst(cfg.Topics.Specs(stockalert.TopicPrices, stockalert.TopicAlerts)...)
	p.Defer(pub.Close)

	m, err := decorator.NewMetrics(p.Registry)
	if err != nil {
		return nil, err
	}
	c, err := collector.New(cfg.Collector, source, collector.Handlers{
		Record:  command.NewRecordPricesHandler(store, stockalert.TopicPrices, p.Logger, m),
		Publish: command.NewPublishOutboxHandler(store, pub, p.Logger, m),
		Unverified: command.NewTrackUnverifiedSymbolsHandler(store, stockalert.TopicAlerts, cfg.UnverifiedMaxMisses,
			cfg.Collector.Now, p.Logger, m),
	}, p.Logger, m, p.Registry)
	if err != nil {
		return nil, err
	}
	return trigger.Message(func(ctx context.Context, work stockalert.CollectWork) error {
		_, err := c.CollectBatch(ctx, work)
		return err
	}, p.Config.MaxBodyBytes, p.Logger), nil
}
