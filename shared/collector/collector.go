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
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// QuoteSource prices one ticker (the Yahoo Finance client or the simulated random walk).
type QuoteSource interface {
	// Quote returns the ticker's current quote; an error wrapping stockalert.ErrNotFound for a symbol
	// the source does not know, any other error for a failure worth retrying next run.
	Quote(ctx context.Context, t stockalert.Ticker) (stockalert.Quote, error)
}

// batchSource is a QuoteSource that prices many tickers per request (the Yahoo client's v7 quote
// endpoint, with its chart fallback).
type batchSource interface {
	// BatchSize is the most tickers one Quotes call should carry; 1 means batching is off.
	BatchSize() int
	// Quotes prices tickers: quotes[i] and errs[i] are tickers[i]'s, with Quote's error contract.
	Quotes(ctx context.Context, tickers []stockalert.Ticker) (quotes []stockalert.Quote, errs []error)
}

// breakerReporter is a QuoteSource that reports its circuit breaker's state.
type breakerReporter interface {
	BreakerState() string
}

// Config tunes a run.
type Config struct {
	// Concurrency bounds the source calls in flight: batches of quotes when the source prices many
	// tickers per request (Yahoo: YAHOO_BATCH_SIZE), single quotes otherwise.
	Concurrency int `env:"COLLECTOR_CONCURRENCY" envDefault:"8"`
	// QuoteTimeout bounds one source call: one quote, or one batch with its chart fallbacks.
	QuoteTimeout time.Duration `env:"COLLECTOR_QUOTE_TIMEOUT" envDefault:"15s"`
	// MaxQuoteAge is the age past which a quote is stale (stockalert.IsStale): a symbol that stopped
	// trading (renamed, delisted) whose source still answers with its last trade. A stale quote is
	// recorded as the ticker's last trade but announces no price event, so no alert is evaluated on
	// it. Zero means stockalert.DefaultMaxQuoteAge (7 days). The readers (stock-queries, telegram-bot)
	// flag such prices with the same setting.
	MaxQuoteAge time.Duration `env:"QUOTE_MAX_AGE" envDefault:"168h"`
	// MaxTickers bounds the distinct tickers priced in one run, so that registrations with many
	// symbols cannot turn a run into thousands of quote requests (and Yahoo's rate limit on the whole
	// service). Past it a run prices MaxTickers of them, taking turns from run to run so that every
	// ticker is priced every ceil(tickers/MaxTickers) runs, counts the rest in
	// stockalert_collector_tickers_skipped_total and says so on its run line (WARN, over_limit). Zero
	// means DefaultMaxTickers.
	MaxTickers int `env:"COLLECTOR_MAX_TICKERS" envDefault:"5000"`
	// Now is the clock quotes are aged against; nil means time.Now.
	Now func() time.Time `env:"-"`
	// Topic is where price events go (stockalert.TopicPrices in production).
	Topic string `env:"-"`
	// NoticeTopic is where Handlers.Unverified queues its notices (stockalert.TopicAlerts when empty):
	// a run that found a symbol unknown publishes it too.
	NoticeTopic string `env:"-"`
	// FanOut, when FanOut.Batch is set, makes a run dispatch work batches to the quote-collector
	// replicas instead of pricing the tickers itself (see FanOutConfig).
	FanOut FanOutConfig
}

// DefaultMaxTickers is the MaxTickers of a zero Config.
const DefaultMaxTickers = 5000

// Handlers are the use cases a run is made of.
type Handlers struct {
	Tickers query.DistinctTickersHandler
	Record  command.RecordPricesHandler
	Publish command.PublishOutboxHandler
	Purge   command.PurgeIdempotencyKeysHandler
	// Unverified, when set, learns from each run which unverified symbols were priced and which found
	// unknown, and drops those unknown too often (see command.NewTrackUnverifiedSymbolsHandler).
	Unverified command.TrackUnverifiedSymbolsHandler
	// Release, when set, queues on NoticeTopic the summary of the alerts held during quiet hours that
	// are over, every run (see command.NewReleaseHeldAlertsHandler): a failure is logged, never fails
	// the run.
	Release command.ReleaseHeldAlertsHandler
	// Dispatch queues a fanned-out run's work batches; required when Config.FanOut.Batch is set.
	Dispatch command.QueueCollectWorkHandler
}

// Report says what a run did.
type Report struct {
	// Skipped is set when the run did nothing because another was still running.
	Skipped bool `json:"skipped,omitempty"`
	// Tickers is how many distinct tickers are subscribed; Quoted how many were priced.
	Tickers int `json:"tickers"`
	// OverLimit is how many of the Tickers this run left unpriced because of MaxTickers (0 when under it).
	OverLimit int `json:"over_limit,omitempty"`
	Quoted    int `json:"quoted"`
	// Unknown lists tickers the source does not know; Failed those it could not price this time.
	Unknown []stockalert.Ticker `json:"unknown,omitempty"`
	// Stale lists the priced tickers whose quote is older than MaxQuoteAge: recorded, not announced.
	Stale  []stockalert.Ticker `json:"stale,omitempty"`
	Failed []stockalert.Ticker `json:"failed,omitempty"`
	// Breaker is the quote source's circuit breaker state after the run, when it has one.
	Breaker string `json:"breaker,omitempty"`
	// PublishError is set when the events could not be published; they stay queued for the next run.
	PublishError string `json:"publish_error,omitempty"`
	// TookMS is the run's duration in milliseconds.
	TookMS int64 `json:"took_ms"`
	// RunID and Batches are set by a fanned-out run: its id and how many work batches it dispatched
	// (Quoted is then 0: the quote-collector replicas price them).
	RunID   string `json:"run_id,omitempty"`
	Batches int    `json:"batches,omitempty"`
}

// Collect is the command of one collector run, as the use-case decorator names it in logs and metrics.
type Collect struct{}

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
	skipped prometheus.Counter
	// turn is where the next run over MaxTickers starts in the ticker list (guarded by running).
	turn    int
	collect decorator.ReportingHandler[Collect, Report]
	fanOut  fanOut
}

// New builds a Collector and registers its metrics with reg. Each run is a use case decorated with
// logger and m (either may be nil): its one log line, "collector run" with event=collector-run, carries
// the run's summary. It returns an error when the metrics are already registered or the configuration
// is invalid.
func New(cfg Config, source QuoteSource, h Handlers, logger *slog.Logger, m *decorator.Metrics, reg prometheus.Registerer) (*Collector, error) {
	if cfg.Concurrency < 1 {
		return nil, fmt.Errorf("collector: COLLECTOR_CONCURRENCY must be at least 1, got %d", cfg.Concurrency)
	}
	if cfg.QuoteTimeout <= 0 {
		return nil, fmt.Errorf("collector: COLLECTOR_QUOTE_TIMEOUT must be positive, got %s", cfg.QuoteTimeout)
	}
	if cfg.MaxQuoteAge < 0 {
		return nil, fmt.Errorf("collector: QUOTE_MAX_AGE must not be negative, got %s", cfg.MaxQuoteAge)
	}
	if cfg.MaxTickers < 0 {
		return nil, fmt.Errorf("collector: COLLECTOR_MAX_TICKERS must not be negative, got %d", cfg.MaxTickers)
	}
	if cfg.MaxTickers == 0 {
		cfg.MaxTickers = DefaultMaxTickers
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Topic == "" {
		cfg.Topic = stockalert.TopicPrices
	}
	if cfg.NoticeTopic == "" {
		cfg.NoticeTopic = stockalert.TopicAlerts
	}
	c := &Collector{
		cfg: cfg, source: source, h: h, logger: logger,
		quotes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockalert_collector_quotes_total",
			Help: "Quote requests by outcome (ok, stale, unknown, failed).",
		}, []string{"outcome"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockalert_collector_runs_total",
			Help: "Collector runs by outcome (ok, skipped, publish_failed, error).",
		}, []string{"outcome"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stockalert_collector_tickers_skipped_total",
			Help: "Subscribed tickers left unpriced by a run because there were more than COLLECTOR_MAX_TICKERS.",
		}),
	}
	for _, col := range []prometheus.Collector{c.quotes, c.runs, c.skipped} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("collector metrics: %w", err)
		}
	}
	c.collect = decorator.ApplyReporting[Collect, Report](collectHandler{c}, logger, m)
	if err := c.initFanOut(h, m, reg); err != nil {
		return nil, err
	}
	return c, nil
}

// Run performs one collection. The error reports a failure to list tickers or record prices (nothing
// of the run is kept; the next run starts afresh). Quote failures and an unreachable broker are not
// errors: they are in the Report, and the run's recorded prices and queued events are safe.
func (c *Collector) Run(ctx context.Context) (Report, error) {
	return c.collect.Handle(ctx, Collect{})
}

// collectHandler is the run as a use case: it reports its summary to the decorator's log line.
type collectHandler struct{ c *Collector }

func (h collectHandler) Handle(ctx context.Context, _ Collect) (Report, error) {
	c := h.c
	start := time.Now()
	if !c.running.TryLock() {
		c.runs.WithLabelValues("skipped").Inc()
		decorator.Report(ctx, slog.LevelWarn, "collector run skipped: the previous run is still running", slog.Bool("skipped", true))
		return Report{Skipped: true}, nil
	}
	defer c.running.Unlock()

	rep, purgeErr, err := c.run(ctx)
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
	// The run's summary goes on its one line, failed or not (a failure logs at Error with its err).
	// Events left in the outbox or keys left unpurged are not failures of the run, but worth a look.
	level := slog.LevelInfo
	attrs := []slog.Attr{slog.String("event", "collector-run"),
		slog.Int("tickers", rep.Tickers), slog.Int("quoted", rep.Quoted), slog.Int("unknown", len(rep.Unknown)),
		slog.Int("failed", len(rep.Failed)), slog.Int("stale", len(rep.Stale)), slog.String("breaker", rep.Breaker),
		slog.String("publish_error", rep.PublishError), slog.Int64("took_ms", rep.TookMS)}
	if len(rep.Stale) > 0 {
		// Once per run, on the run's line: which symbols answer with an old last trade.
		attrs = append(attrs, slog.Any("stale_tickers", rep.Stale), slog.String("max_quote_age", c.maxQuoteAge().String()))
	}
	if rep.OverLimit > 0 {
		// Once per run: more distinct tickers than one run prices; the rest wait for their turn.
		level = slog.LevelWarn
		attrs = append(attrs, slog.Int("over_limit", rep.OverLimit), slog.Int("max_tickers", c.cfg.MaxTickers))
	}
	if rep.PublishError != "" {
		level = slog.LevelWarn
	}
	if rep.Batches > 0 {
		attrs = append(attrs, slog.String("run_id", rep.RunID), slog.Int("batches", rep.Batches))
	}
	if purgeErr != nil {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("purge_error", purgeErr.Error()))
	}
	decorator.Report(ctx, level, "collector run", attrs...)
	return rep, err
}

// maxQuoteAge is the effective MaxQuoteAge.
func (c *Collector) maxQuoteAge() time.Duration {
	if c.cfg.MaxQuoteAge <= 0 {
		return stockalert.DefaultMaxQuoteAge
	}
	return c.cfg.MaxQuoteAge
}

// run prices, records and publishes — or, fanned out, dispatches the tickers to the quote-collector
// replicas. purgeErr is the failure to purge expired idempotency keys, which does not fail the run;
// err fails it.
func (c *Collector) run(ctx context.Context) (rep Report, purgeErr, err error) {
	purgeErr = c.h.Purge.Handle(ctx, command.PurgeIdempotencyKeys{})
	tickers, err := c.h.Tickers.Handle(ctx, query.DistinctTickers{})
	if err != nil {
		return rep, purgeErr, err
	}
	rep.Tickers = len(tickers)
	tickers, rep.OverLimit = c.bound(tickers)
	c.skipped.Add(float64(rep.OverLimit))

	if c.cfg.FanOut.Batch > 0 {
		err = c.dispatch(ctx, tickers, &rep)
	} else {
		err = c.collectTickers(ctx, tickers, &rep)
	}
	if err != nil {
		return rep, purgeErr, err
	}
	if c.h.Release != nil {
		if err := c.h.Release.Handle(ctx, command.ReleaseHeldAlerts{}); err != nil {
			c.logger.WarnContext(ctx, "could not queue the quiet-hours summaries; the next run tries again", "err", err)
		}
		// Quiet-hours summaries, and notices of dropped symbols that an earlier run (or quote-collector
		// batch) could not publish.
		c.publishNotices(ctx, &rep)
	}
	return rep, purgeErr, nil
}

// collectTickers prices tickers, records the quotes, tracks the unverified symbols among them and
// publishes the price events (and the notices of symbols it dropped): what a run does in one process
// and what a quote-collector does with one batch. It fills rep's Quoted, Unknown, Stale, Failed and
// PublishError; its error (store faults, a cancelled ctx) means nothing was recorded.
func (c *Collector) collectTickers(ctx context.Context, tickers []stockalert.Ticker, rep *Report) error {
	quotes, outcomes := c.price(ctx, tickers)
	var got, stale []stockalert.Quote
	now := c.cfg.Now()
	for i, err := range outcomes {
		switch {
		case err == nil && stockalert.IsStale(quotes[i].Time, now, c.cfg.MaxQuoteAge):
			stale = append(stale, quotes[i])
			rep.Stale = append(rep.Stale, tickers[i])
			c.quotes.WithLabelValues("stale").Inc()
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
		return fmt.Errorf("collector run: %w", ctx.Err())
	}
	rep.Quoted = len(got) + len(stale)
	if rep.Quoted > 0 {
		if err := c.h.Record.Handle(ctx, command.RecordPrices{Quotes: got, Stale: stale}); err != nil {
			return err
		}
	}
	if c.h.Unverified != nil {
		priced := make([]stockalert.Ticker, 0, rep.Quoted)
		for _, q := range append(got, stale...) {
			priced = append(priced, q.Ticker)
		}
		if err := c.h.Unverified.Handle(ctx, command.TrackUnverifiedSymbols{Priced: priced, Unknown: rep.Unknown}); err != nil {
			return err
		}
	}
	if err := c.h.Publish.Handle(ctx, command.PublishOutbox{Topic: c.cfg.Topic}); err != nil {
		// The events stay queued for the next run; the run's line reports it.
		rep.PublishError = err.Error()
	}
	if c.h.Release == nil && c.h.Unverified != nil && len(rep.Unknown) > 0 {
		// Notices of the symbols this run dropped, if any (with Release set, run publishes them).
		c.publishNotices(ctx, rep)
	}
	return nil
}

// publishNotices publishes what is queued on NoticeTopic, noting a failure in rep.PublishError unless
// it already holds one.
func (c *Collector) publishNotices(ctx context.Context, rep *Report) {
	if err := c.h.Publish.Handle(ctx, command.PublishOutbox{Topic: c.cfg.NoticeTopic}); err != nil && rep.PublishError == "" {
		rep.PublishError = err.Error()
	}
}

// price prices tickers: quotes[i] and outcomes[i] are tickers[i]'s quote and error (nil, one wrapping
// stockalert.ErrNotFound, or a failure worth retrying). A source that prices many tickers per request
// (batchSource, the Yahoo client) gets them in batches of its BatchSize, Concurrency batches in
// flight; any other source one ticker per call, Concurrency calls in flight. It never fails as a whole.
func (c *Collector) price(ctx context.Context, tickers []stockalert.Ticker) (quotes []stockalert.Quote, outcomes []error) {
	quotes = make([]stockalert.Quote, len(tickers))
	outcomes = make([]error, len(tickers))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Concurrency)
	if b, ok := c.source.(batchSource); ok && b.BatchSize() > 1 {
		size := b.BatchSize()
		for start := 0; start < len(tickers); start += size {
			end := min(start+size, len(tickers))
			g.Go(func() error {
				qctx, cancel := context.WithTimeout(gctx, c.cfg.QuoteTimeout)
				defer cancel()
				qs, errs := b.Quotes(qctx, tickers[start:end])
				for k := range qs {
					if errs[k] == nil {
						errs[k] = qs[k].Validate()
					}
					quotes[start+k], outcomes[start+k] = qs[k], errs[k]
				}
				return nil
			})
		}
		_ = g.Wait()
		return quotes, outcomes
	}
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
	return quotes, outcomes
}

// bound returns at most MaxTickers of tickers, starting where the previous bounded run stopped and
// wrapping around, and how many it left out. Called with running held.
func (c *Collector) bound(tickers []stockalert.Ticker) (priced []stockalert.Ticker, left int) {
	n, limit := len(tickers), c.cfg.MaxTickers
	if n <= limit {
		return tickers, 0
	}
	start := c.turn % n
	priced = make([]stockalert.Ticker, 0, limit)
	for i := range limit {
		priced = append(priced, tickers[(start+i)%n])
	}
	c.turn = (start + limit) % n
	return priced, n - limit
}
