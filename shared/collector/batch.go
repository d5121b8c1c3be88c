package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// ErrBatchFailed is wrapped by CollectBatch's error when every quote of a batch failed (the quote
// source is out, or its circuit breaker open): nothing was recorded and the batch should be retried.
var ErrBatchFailed = errors.New("every quote of the batch failed")

// CollectBatch is the command of a quote-collector's batch, as the use-case decorator names it in
// logs and metrics.
type CollectBatch struct {
	Work stockalert.CollectWork
}

// BatchReport says what a quote-collector did with one batch: the run's Report fields for its tickers.
type BatchReport struct {
	RunID   string `json:"run_id"`
	Batch   int    `json:"batch"`
	Batches int    `json:"batches"`
	// Abandoned is set when every quote failed but the batch's run is older than the retry window:
	// the batch is acknowledged without a retry.
	Abandoned bool `json:"abandoned,omitempty"`
	Report
}

// CollectBatch prices one work batch of a fanned-out collection as a run prices its tickers (the same
// price step, quote source and MaxQuoteAge), records the quotes, tracks the unverified symbols among
// them and publishes the price events (and notices of dropped symbols). Its one log line is
// "collector batch" with event=collector-batch. Batches run concurrently, each with Concurrency
// quote requests in flight.
//
// Errors: a *stockalert.ValidationError for a malformed batch (it can never succeed); ErrBatchFailed,
// wrapped, when every quote failed and the batch's run (Work.Time) is within FanOut.RetryWindow — the
// caller should have it retried, which redoes only this batch; store faults and a cancelled ctx
// (nothing of the batch is recorded). A batch handled twice is harmless: a quote already recorded
// for its (ticker, time) is not recorded or announced again. A broker outage is no error: the price
// events stay queued and BatchReport.PublishError says so.
func (c *Collector) CollectBatch(ctx context.Context, work stockalert.CollectWork) (BatchReport, error) {
	return c.fanOut.collect.Handle(ctx, CollectBatch{Work: work})
}

// batchHandler is a batch as a use case: it reports its summary to the decorator's log line.
type batchHandler struct{ c *Collector }

func (h batchHandler) Handle(ctx context.Context, cmd CollectBatch) (BatchReport, error) {
	c, w := h.c, cmd.Work
	start := time.Now()
	rep := BatchReport{RunID: w.RunID, Batch: w.Batch, Batches: w.Batches}
	if err := w.Validate(); err != nil {
		c.fanOut.batches.WithLabelValues("error").Inc()
		return rep, fmt.Errorf("collect batch: %w", err)
	}
	rep.Tickers = len(w.Tickers)
	err := c.collectTickers(ctx, w.Tickers, &rep.Report)
	rep.TookMS = time.Since(start).Milliseconds()
	if b, ok := c.source.(breakerReporter); ok {
		rep.Breaker = b.BreakerState()
	}
	outcome := "ok"
	level := slog.LevelInfo
	switch {
	case err != nil:
		outcome = "error"
	case rep.Quoted == 0 && len(rep.Unknown) == 0 && len(rep.Failed) > 0:
		if age := c.cfg.Now().Sub(w.Time); age <= c.cfg.FanOut.RetryWindow {
			outcome = "retry"
			err = fmt.Errorf("collect batch %d of %d of run %s (%d tickers failed): %w", w.Batch+1, w.Batches, w.RunID, len(rep.Failed), ErrBatchFailed)
		} else {
			// A later run prices these tickers again: retrying this one would only add load.
			outcome, level, rep.Abandoned = "abandoned", slog.LevelWarn, true
		}
	case rep.PublishError != "":
		outcome, level = "publish_failed", slog.LevelWarn
	}
	c.fanOut.batches.WithLabelValues(outcome).Inc()
	attrs := []slog.Attr{slog.String("event", "collector-batch"), slog.String("run_id", w.RunID),
		slog.Int("batch", w.Batch), slog.Int("batches", w.Batches),
		slog.Int("tickers", rep.Tickers), slog.Int("quoted", rep.Quoted), slog.Int("unknown", len(rep.Unknown)),
		slog.Int("failed", len(rep.Failed)), slog.Int("stale", len(rep.Stale)), slog.String("breaker", rep.Breaker),
		slog.String("publish_error", rep.PublishError), slog.Int64("took_ms", rep.TookMS),
		slog.Int64("lag_ms", c.cfg.Now().Sub(w.Time).Milliseconds())}
	if rep.Abandoned {
		attrs = append(attrs, slog.Bool("abandoned", true))
	}
	if len(rep.Stale) > 0 {
		attrs = append(attrs, slog.Any("stale_tickers", rep.Stale), slog.String("max_quote_age", c.maxQuoteAge().String()))
	}
	decorator.Report(ctx, level, "collector batch", attrs...)
	return rep, err
}
