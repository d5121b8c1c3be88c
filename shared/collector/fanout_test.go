package collector_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/collector"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/deadport"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// dispatcher is the data-collector's collector with COLLECTOR_FANOUT_BATCH batch, publishing to brokers
// with up to attempts tries per publish (a real broker may answer NOT_LEADER_FOR_PARTITION to the first
// produce to a topic just created, which the next try gets past; one try gives up on a dead broker fast).
func (r *rig) dispatcher(t *testing.T, brokers []string, batch, attempts int) *collector.Collector {
	t.Helper()
	return r.collectorAdjusted(t, brokers, attempts, func(cfg *collector.Config, h *collector.Handlers) {
		cfg.FanOut = collector.FanOutConfig{Batch: batch, Topic: r.work}
		h.Dispatch = command.NewQueueCollectWorkHandler(r.store, r.work, r.logger, nil)
	})
}

// quoteCollector is the quote-collector's collector: no listing, no purge, no quiet-hours release.
func (r *rig) quoteCollector(t *testing.T) *collector.Collector {
	t.Helper()
	return r.collectorAdjusted(t, r.brokers, 3, func(_ *collector.Config, h *collector.Handlers) {
		h.Tickers, h.Purge = nil, nil
	})
}

// readWork reads n work batches from the rig's work topic, checking each is keyed by its index.
func readWork(t *testing.T, r *rig, n int) []stockalert.CollectWork {
	t.Helper()
	var out []stockalert.CollectWork
	for _, m := range kafkatest.Read(t, r.brokers, r.work, n, 30*time.Second) {
		var w stockalert.CollectWork
		require.NoError(t, json.Unmarshal(m.Value, &w))
		require.NoError(t, w.Validate())
		require.Equal(t, stockalert.CollectWorkKey(w.Batch), string(m.Key))
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b stockalert.CollectWork) int { return a.Batch - b.Batch })
	return out
}

func TestSplitCutsBatchesOfEvenSizesInOrder(t *testing.T) {
	t.Parallel()
	tk := func(names ...string) []stockalert.Ticker {
		out := make([]stockalert.Ticker, len(names))
		for i, n := range names {
			out[i] = stockalert.Ticker(n)
		}
		return out
	}
	all := tk("A", "B", "C", "D", "E", "F", "G", "H", "I", "J")
	sizes := func(work []stockalert.CollectWork) []int {
		var out []int
		for i, w := range work {
			require.Equal(t, i, w.Batch)
			require.Len(t, work, w.Batches)
			out = append(out, len(w.Tickers))
		}
		return out
	}
	require.Equal(t, []int{4, 3, 3}, sizes(collector.Split(all, 4)))
	require.Equal(t, []int{2, 2, 1}, sizes(collector.Split(all[:5], 2)))
	require.Equal(t, []int{10}, sizes(collector.Split(all, 10)))
	require.Equal(t, []int{1, 1, 1}, sizes(collector.Split(all[:3], 1)))
	require.Nil(t, collector.Split(nil, 3))
	var joined []stockalert.Ticker
	for _, w := range collector.Split(all, 3) {
		joined = append(joined, w.Tickers...)
	}
	require.Equal(t, all, joined, "every ticker once, in order")
}

// Fanned out, the cron run prices nothing: it publishes the subscribed tickers in batches of
// COLLECTOR_FANOUT_BATCH, each ticker in one batch, all of one run, and says so on its run line.
func TestAFannedOutRunDispatchesBatchesAndPricesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	var buf bytes.Buffer
	r.logger = slog.New(slog.NewJSONHandler(&buf, nil))
	all := []string{"AAPL", "GOOG", "MSFT", "NVDA", "TSLA"}
	r.subscribe(t, "a@example.com", all...)

	rep, err := r.dispatcher(t, r.brokers, 2, 3).Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 5, rep.Tickers)
	require.Equal(t, 3, rep.Batches)
	require.NotEmpty(t, rep.RunID)
	require.Zero(t, rep.Quoted)
	require.Empty(t, rep.PublishError)
	require.Zero(t, r.yahoo.Requests(""), "the dispatcher asks Yahoo nothing")
	require.Zero(t, storetest.Count(t, r.store.DB(), "prices", ""))
	require.Zero(t, storetest.Count(t, r.store.DB(), "outbox", ""), "the batches were published")

	work := readWork(t, r, 3)
	var tickers []string
	for _, w := range work {
		require.Equal(t, rep.RunID, w.RunID)
		require.Equal(t, 3, w.Batches)
		require.True(t, r.now().Equal(w.Time), "the run's time")
		for _, tk := range w.Tickers {
			tickers = append(tickers, string(tk))
		}
	}
	require.Equal(t, all, tickers, "each ticker in one batch")
	line := runLine(t, buf.String())
	for k, want := range map[string]any{"level": "INFO", "tickers": 5.0, "quoted": 0.0, "batches": 3.0, "run_id": rep.RunID} {
		require.Equal(t, want, line[k], "%s in %v", k, line)
	}
}

// MaxTickers bounds a fanned-out run as it bounds one that prices: the rest take turns.
func TestAFannedOutRunTakesTurnsPastMaxTickers(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.maxTickers = 3
	all := []string{"AAPL", "GOOG", "MSFT", "NVDA", "TSLA"}
	r.subscribe(t, "a@example.com", all...)
	c := r.dispatcher(t, r.brokers, 2, 3)

	rep, err := c.Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, rep.OverLimit)
	require.Equal(t, 2, rep.Batches)
	rep, err = c.Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, rep.Batches)
	seen := map[stockalert.Ticker]int{}
	for _, w := range readWork(t, r, 4) {
		for _, tk := range w.Tickers {
			seen[tk]++
		}
	}
	require.Len(t, seen, 5, "two runs dispatched every ticker: %v", seen)
}

// The batches go through the outbox: a broker outage keeps them, and the next run publishes them.
func TestBatchesSurviveAKafkaOutageAndGoOutWithTheNextRun(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.subscribe(t, "a@example.com", "AAPL", "MSFT")

	rep, err := r.dispatcher(t, []string{deadport.Addr(t)}, 1, 1).Run(context.Background())
	require.NoError(t, err, "a broker outage does not fail the run")
	require.NotEmpty(t, rep.PublishError)
	require.Equal(t, 2, storetest.Count(t, r.store.DB(), "outbox", ""), "its batches wait in the outbox")
	first := rep.RunID

	rep, err = r.dispatcher(t, r.brokers, 1, 3).Run(context.Background())
	require.NoError(t, err)
	require.Empty(t, rep.PublishError)
	runs := map[string]int{}
	for _, w := range readWork(t, r, 4) {
		runs[w.RunID]++
	}
	require.Equal(t, map[string]int{first: 2, rep.RunID: 2}, runs)
	require.Zero(t, storetest.Count(t, r.store.DB(), "outbox", ""))
}

// A quote-collector prices its batch, records it and publishes the price events; the batch handled
// again (a redelivery) announces nothing twice. Its summary is one "collector batch" line.
func TestABatchIsPricedRecordedAndPublishedOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	var buf bytes.Buffer
	r.logger = slog.New(slog.NewJSONHandler(&buf, nil))
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	r.yahoo.SetQuote("AAPL", 190.5, "USD", at)
	r.yahoo.SetQuote("MSFT", 410, "USD", at)
	c := r.quoteCollector(t)
	work := stockalert.CollectWork{RunID: "run-1", Batch: 1, Batches: 2, Tickers: []stockalert.Ticker{"AAPL", "MSFT", "NOSUCH"}, Time: r.now()}

	rep, err := c.CollectBatch(context.Background(), work)
	require.NoError(t, err)
	require.Equal(t, 2, rep.Quoted)
	require.Equal(t, []stockalert.Ticker{"NOSUCH"}, rep.Unknown)
	require.Equal(t, "run-1", rep.RunID)
	require.Empty(t, rep.PublishError)
	require.Len(t, readPrices(t, r, 2), 2)
	line := map[string]any{}
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(l, &rec))
		if rec["msg"] == "collector batch" {
			line = rec
		}
	}
	for k, want := range map[string]any{"level": "INFO", "event": "collector-batch", "command": "CollectBatch", "run_id": "run-1",
		"batch": 1.0, "batches": 2.0, "tickers": 3.0, "quoted": 2.0, "unknown": 1.0, "failed": 0.0} {
		require.Equal(t, want, line[k], "%s in %v", k, line)
	}

	rep, err = c.CollectBatch(context.Background(), work)
	require.NoError(t, err, "a redelivered batch is acknowledged")
	require.Equal(t, 2, rep.Quoted)
	require.Zero(t, storetest.Count(t, r.store.DB(), "outbox", ""))
	require.Equal(t, int64(2), kafkatest.Size(t, r.brokers, r.topic), "nothing announced twice")
	require.Equal(t, 2, storetest.Count(t, r.store.DB(), "prices", ""))
}

// A batch whose every quote failed asks to be retried while its run is recent, and is abandoned after
// (a later run prices its tickers); one with some quotes is done, as a run is.
func TestABatchThatFailedWhollyIsRetriedWithinTheWindow(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	r.yahoo.SetQuote("AAPL", 190.5, "USD", at)
	r.yahoo.SetQuote("MSFT", 410, "USD", at)
	c := r.quoteCollector(t)
	batch := func(age time.Duration, tickers ...stockalert.Ticker) stockalert.CollectWork {
		return stockalert.CollectWork{RunID: "run-1", Batches: 1, Tickers: tickers, Time: r.now().Add(-age)}
	}

	// Each Fail(…, 2) fails the batch (quote API) request, then the symbol's chart request it falls
	// back to. (The client's breaker counts only chart failures and opens after 3 in a row: a success
	// comes between these.)
	r.yahoo.Fail("AAPL", 503, 2)
	_, err := c.CollectBatch(context.Background(), batch(10*time.Second, "AAPL"))
	require.ErrorIs(t, err, collector.ErrBatchFailed)
	require.Zero(t, storetest.Count(t, r.store.DB(), "prices", ""))

	rep, err := c.CollectBatch(context.Background(), batch(10*time.Second, "AAPL"))
	require.NoError(t, err, "the retry succeeds")
	require.Equal(t, 1, rep.Quoted)

	r.yahoo.Fail("MSFT", 503, 2)
	rep, err = c.CollectBatch(context.Background(), batch(2*time.Minute, "MSFT"))
	require.NoError(t, err, "past the retry window the batch is let go")
	require.True(t, rep.Abandoned)

	r.yahoo.Fail("MSFT", 503, 2)
	rep, err = c.CollectBatch(context.Background(), batch(10*time.Second, "AAPL", "MSFT"))
	require.NoError(t, err, "a batch with a quote is done; the failed ticker waits for the next run")
	require.Equal(t, []stockalert.Ticker{"MSFT"}, rep.Failed)
	require.Equal(t, 1, rep.Quoted)
	require.Equal(t, 1, storetest.Count(t, r.store.DB(), "prices", ""), "AAPL once, though priced twice")
}

func TestAMalformedBatchIsRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	c := r.quoteCollector(t)
	for field, w := range map[string]stockalert.CollectWork{
		"run_id":     {Batches: 1, Tickers: []stockalert.Ticker{"AAPL"}},
		"batch":      {RunID: "r", Batch: 2, Batches: 2, Tickers: []stockalert.Ticker{"AAPL"}},
		"tickers":    {RunID: "r", Batches: 1},
		"tickers[1]": {RunID: "r", Batches: 1, Tickers: []stockalert.Ticker{"AAPL", "not a symbol"}},
	} {
		_, err := c.CollectBatch(context.Background(), w)
		v, ok := stockalert.AsValidation(err)
		require.True(t, ok, "%s: %v", field, err)
		require.Equal(t, field, v.Field)
	}
	require.Zero(t, r.yahoo.Requests(""))
}

func TestFanOutSettingsAreChecked(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	for _, cfg := range []collector.FanOutConfig{{Batch: -1}, {Batch: 10}, {RetryWindow: -time.Second}} {
		_, err := collector.New(collector.Config{Concurrency: 1, QuoteTimeout: time.Second, FanOut: cfg}, r.client,
			collector.Handlers{}, r.logger, nil, r.newMetrics())
		require.Error(t, err, "%+v", cfg)
	}
}
