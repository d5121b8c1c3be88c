// Package collector is the data-collector's use case: one run prices every subscribed ticker once,
// records the quotes in one batch (which queues their events in the outbox, in the same transaction)
// and publishes whatever the outbox holds — so an event an earlier run could not publish, because Kafka
// was down, goes out with the next run and none is lost.
package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// QuoteSource prices one ticker (the Yahoo Finance client or the simulated random walk).
type QuoteSource interface {
	// Quote returns the ticker's current quote; an error wrapping stockalert.ErrNotFound for a symbol
	// the source does not know, any other error for a failure worth retrying next run.
	Quote(ctx context.Context, t stockalert.Ticker) (stockalert.Quote, error)
}

// breakerReporter is a QuoteSource that reports its circuit breaker's state.
type breakerReporter interface {
	BreakerState() string
}

// Config tunes a run.
type Config struct {
	// Concurrency bounds the quote requests in flight.
	Concurrency int `env:"COLLECTOR_CONCURRENCY" envDefault:"8"`
	// QuoteTimeout bounds one quote request.
	QuoteTimeout time.Duration `env:"COLLECTOR_QUOTE_TIMEOUT" envDefault:"15s"`
	// Topic is where price events go (stockalert.TopicPrices in production).
	Topic string `env:"-"`
}

// Handlers are the use cases a run is made of.
type Handlers struct {
	Tickers query.DistinctTickersHandler
	Record  command.RecordPricesHandler
	Publish command.PublishOutboxHandler
	Purge   command.PurgeIdempotencyKeysHandler
}

// Report says what a run did.
type Report struct {
	// Skipped is set when the run did nothing because another was still running.
	Skipped bool `json:"skipped,omitempty"`
	// Tickers is how many distinct tickers are subscribed; Quoted how many were priced.
	Tickers int `json:"tickers"`
	Quoted  int `json:"quoted"`
	// Unknown lists tickers the source does not know; Failed those it could not price this time.
	Unknown []stockalert.Ticker `json:"unknown,omitempty"`
	Failed  []stockalert.Ticker `json:"failed,omitempty"`
	// Breaker is the quote source's circuit breaker state after the run, when it has one.
	Breaker string `json:"breaker,omitempty"`
	// PublishError is set when the events could not be published; they stay queued for the next run.
	PublishError string `json:"publish_error,omitempty"`
	// TookMS is the run's duration in milliseconds.
	TookMS int64 `json:"took_ms"`
}

// Collector runs collections. It is safe for concurrent use: a Run that starts while another is
// running returns at once with Report.Skipped.
type Collector struct {
	cfg     Config
	source  QuoteSource
	h       Handlers
	logger  *slog.Logger
	running sync.Mutex
	quotes  *prometheus.CounterVec
	runs    *prometheus.CounterVec
}

// New builds a Collector and registers its metrics with reg. It returns an error when the metrics are
// already registered or the configuration is invalid.
func New(cfg Config, source QuoteSource, h Handlers, logger *slog.Logger, reg prometheus.Registerer) (*Collector, error) {
	if cfg.Concurrency < 1 {
		return nil, fmt.Errorf("collector: COLLECTOR_CONCURRENCY must be at least 1, got %d", cfg.Concurrency)
	}
	if cfg.QuoteTimeout <= 0 {
		return nil, fmt.Errorf("collector: COLLECTOR_QUOTE_TIMEOUT must be positive, got %s", cfg.QuoteTimeout)
	}
	if cfg.Topic == "" {
		cfg.Topic = stockalert.TopicPrices
	}
	c := &Collector{
		cfg: cfg, source: source, h: h, logger: logger,
		quotes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockalert_collector_quotes_total",
			Help: "Quote requests by outcome (ok, unknown, failed).",
		}, []string{"outcome"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockalert_collector_runs_total",
			Help: "Collector runs by outcome (ok, skipped, publish_failed, error).",
		}, []string{"outcome"}),
	}
	for _, col := range []prometheus.Collector{c.quotes, c.runs} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("collector metrics: %w", err)
		}
	}
	return c, nil
}

// Run performs one collection. The error reports a failure to list tickers or record prices (nothing
// of the run is kept; the next run starts afresh). Quote failures and an unreachable broker are not
// errors: they are in the Report, and the run's recorded prices and queued events are safe.
func (c *Collector) Run(ctx context.Context) (Report, error) {
	start := time.Now()
	if !c.running.TryLock() {
		c.runs.WithLabelValues("skipped").Inc()
		c.logger.WarnContext(ctx, "collector run skipped: the previous run is still running")
		return Report{Skipped: true}, nil
	}
	defer c.running.Unlock()

	rep, err := c.run(ctx)
	rep.TookMS = time.Since(start).Milliseconds()
	if b, ok := c.source.(breakerReporter); ok {
		rep.Breaker = b.BreakerState()
	}
	outcome := "ok"
	switch {
	case err != nil:
		outcome = "error"
	case rep.PublishError != "":
		outcome = "publish_failed"
	}
	c.runs.WithLabelValues(outcome).Inc()
	if err != nil {
		return rep, err
	}
	c.logger.InfoContext(ctx, "collector run", "event", "collector-run",
		"tickers", rep.Tickers, "quoted", rep.Quoted, "unknown", len(rep.Unknown), "failed", len(rep.Failed),
		"breaker", rep.Breaker, "publish_error", rep.PublishError, "took_ms", rep.TookMS)
	return rep, nil
}

func (c *Collector) run(ctx context.Context) (Report, error) {
	var rep Report
	if err := c.h.Purge.Handle(ctx, command.PurgeIdempotencyKeys{}); err != nil {
		c.logger.WarnContext(ctx, "purge of expired idempotency keys failed", "err", err)
	}
	tickers, err := c.h.Tickers.Handle(ctx, query.DistinctTickers{})
	if err != nil {
		return rep, err
	}
	rep.Tickers = len(tickers)

	quotes := make([]stockalert.Quote, len(tickers))
	outcomes := make([]error, len(tickers))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Concurrency)
	for i, t := range tickers {
		g.Go(func() error {
			qctx, cancel := context.WithTimeout(gctx, c.cfg.QuoteTimeout)
			defer cancel()
			q, err := c.source.Quote(qctx, t)
			if err == nil {
				err = q.Validate() // a source's bad quote must not sink the whole batch
			}
			quotes[i], outcomes[i] = q, err
			return nil
		})
	}
	_ = g.Wait() // the goroutines never fail the group; outcomes holds each result

	var got []stockalert.Quote
	for i, err := range outcomes {
		switch {
		case err == nil:
			got = append(got, quotes[i])
			c.quotes.WithLabelValues("ok").Inc()
		case errors.Is(err, stockalert.ErrNotFound):
			rep.Unknown = append(rep.Unknown, tickers[i])
			c.quotes.WithLabelValues("unknown").Inc()
			c.logger.WarnContext(ctx, "ticker unknown to the quote source", "ticker", tickers[i], "err", err)
		default:
			rep.Failed = append(rep.Failed, tickers[i])
			c.quotes.WithLabelValues("failed").Inc()
			c.logger.WarnContext(ctx, "quote failed", "ticker", tickers[i], "err", err)
		}
	}
	if ctx.Err() != nil {
		return rep, fmt.Errorf("collector run: %w", ctx.Err())
	}
	rep.Quoted = len(got)
	if len(got) > 0 {
		if err := c.h.Record.Handle(ctx, command.RecordPrices{Quotes: got}); err != nil {
			return rep, err
		}
	}
	if err := c.h.Publish.Handle(ctx, command.PublishOutbox{Topic: c.cfg.Topic}); err != nil {
		rep.PublishError = err.Error()
		c.logger.WarnContext(ctx, "price events stay queued for the next run", "err", err)
	}
	return rep, nil
}
