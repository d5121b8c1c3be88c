package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// FanOutConfig spreads a collection over the replicas of the quote-collector function: the
// cron-triggered run only lists the tickers (with MaxTickers' turns) and publishes them in work
// batches, one stockalert.CollectWork per message on Topic, which the kafka-connector hands to the
// quote-collector replicas, one invocation per partition at a time (README "Scaling").
type FanOutConfig struct {
	// Batch is how many tickers go in one work batch (the run's tickers are split into
	// ceil(tickers/Batch) batches of sizes that differ by at most one). 0, the default, prices every
	// ticker in the run's own process.
	Batch int `env:"COLLECTOR_FANOUT_BATCH" envDefault:"0"`
	// RetryWindow is how long after its run a batch whose every quote failed is still retried (the
	// quote-collector answers 500, the kafka-connector retries it with backoff); past it the batch is
	// acknowledged as abandoned, since a later run prices its tickers again. Zero means
	// DefaultFanOutRetryWindow.
	RetryWindow time.Duration `env:"COLLECTOR_FANOUT_RETRY_WINDOW" envDefault:"1m"`
	// Topic is where the batches go (stockalert.TopicCollect when empty).
	Topic string `env:"-"`
}

// DefaultFanOutRetryWindow is the RetryWindow of a zero FanOutConfig: the cron schedule's period.
const DefaultFanOutRetryWindow = time.Minute

// fanOut is the Collector's state for fanned-out collections.
type fanOut struct {
	batches *prometheus.CounterVec
	collect decorator.ReportingHandler[CollectBatch, BatchReport]
}

// initFanOut checks the fan-out settings and registers the batch metrics. Called by New.
func (c *Collector) initFanOut(h Handlers, m *decorator.Metrics, reg prometheus.Registerer) error {
	f := &c.cfg.FanOut
	switch {
	case f.Batch < 0:
		return fmt.Errorf("collector: COLLECTOR_FANOUT_BATCH must not be negative, got %d", f.Batch)
	case f.Batch > 0 && h.Dispatch == nil:
		return fmt.Errorf("collector: COLLECTOR_FANOUT_BATCH is set but the run has no dispatch handler")
	case f.RetryWindow < 0:
		return fmt.Errorf("collector: COLLECTOR_FANOUT_RETRY_WINDOW must not be negative, got %s", f.RetryWindow)
	}
	if f.RetryWindow == 0 {
		f.RetryWindow = DefaultFanOutRetryWindow
	}
	if f.Topic == "" {
		f.Topic = stockalert.TopicCollect
	}
	c.fanOut.batches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "stockalert_collector_batches_total",
		Help: "Work batches of fanned-out collections: dispatched by the data-collector, and handled by a quote-collector by outcome (ok, publish_failed, retry, abandoned, error).",
	}, []string{"outcome"})
	if err := reg.Register(c.fanOut.batches); err != nil {
		return fmt.Errorf("collector metrics: %w", err)
	}
	c.fanOut.collect = decorator.ApplyReporting[CollectBatch, BatchReport](batchHandler{c}, c.logger, m)
	return nil
}

// dispatch splits tickers into work batches, queues them in the outbox and publishes them (and the
// price events a quote-collector queued but could not publish). A broker outage is no error: the
// batches stay queued for the next run, and rep.PublishError says so. Its error is the store's.
func (c *Collector) dispatch(ctx context.Context, tickers []stockalert.Ticker, rep *Report) error {
	if len(tickers) > 0 {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("collector run id: %w", err)
		}
		work := Split(tickers, c.cfg.FanOut.Batch)
		now := c.cfg.Now().UTC()
		for i := range work {
			work[i].RunID, work[i].Time = id.String(), now
		}
		if err := c.h.Dispatch.Handle(ctx, command.QueueCollectWork{Work: work}); err != nil {
			return err
		}
		rep.RunID, rep.Batches = id.String(), len(work)
		c.fanOut.batches.WithLabelValues("dispatched").Add(float64(len(work)))
	}
	// Batches an earlier run could not publish go out too.
	if err := c.h.Publish.Handle(ctx, command.PublishOutbox{Topic: c.cfg.FanOut.Topic}); err != nil {
		rep.PublishError = err.Error()
	}
	if err := c.h.Publish.Handle(ctx, command.PublishOutbox{Topic: c.cfg.Topic}); err != nil && rep.PublishError == "" {
		rep.PublishError = err.Error()
	}
	return nil
}

// Split cuts tickers into ceil(len(tickers)/size) batches, in order, whose sizes differ by at most
// one (5 tickers by 2: 2, 2, 1; 10 by 4: 4, 3, 3), numbered Batch 0… of Batches. size must be at
// least 1; no tickers give no batch.
func Split(tickers []stockalert.Ticker, size int) []stockalert.CollectWork {
	n := len(tickers)
	if n == 0 {
		return nil
	}
	count := (n + size - 1) / size
	work := make([]stockalert.CollectWork, count)
	small, extra := n/count, n%count // the first extra batches hold one more
	from := 0
	for i := range work {
		k := small
		if i < extra {
			k++
		}
		work[i] = stockalert.CollectWork{Batch: i, Batches: count, Tickers: tickers[from : from+k : from+k]}
		from += k
	}
	return work
}
