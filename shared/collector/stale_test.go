package collector_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// A renamed or delisted symbol keeps answering 200 with its last trade of months ago
// (meta.regularMarketTime): that quote is recorded as the ticker's last trade, but it is no price
// event — nothing is published, so no alert is evaluated on it — and the run says so once, on its line.
func TestRunRecordsAStaleQuoteButAnnouncesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	var buf bytes.Buffer
	r.logger = slog.New(slog.NewJSONHandler(&buf, nil))
	now := r.now()
	r.yahoo.SetQuote("AAPL", 190.5, "USD", now.Add(-time.Minute))
	r.yahoo.SetQuote("OLD.L", 12.3, "GBp", now.AddDate(0, -5, 0))
	r.yahoo.SetQuote("WKND", 55, "USD", now.Add(-(2*24*time.Hour + 17*time.Hour))) // Friday's close on Monday morning
	r.subscribe(t, "a@example.com", "AAPL", "OLD.L", "WKND")

	rep, err := r.collector(t, r.brokers).Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 3, rep.Quoted, "every ticker was priced")
	require.Equal(t, []stockalert.Ticker{"OLD.L"}, rep.Stale)
	require.Empty(t, rep.PublishError)
	require.Equal(t, 3, storetest.Count(t, r.store.DB(), "prices", ""), "the stale quote is recorded too")
	require.Zero(t, storetest.Count(t, r.store.DB(), "outbox", ""))

	// Exactly the two fresh quotes reached Kafka.
	msgs := readPrices(t, r, 2)
	require.ElementsMatch(t, []stockalert.Ticker{"AAPL", "WKND"}, msgs)

	require.Equal(t, 2.0, quotesCounted(t, r, "ok"))
	require.Equal(t, 1.0, quotesCounted(t, r, "stale"))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1, "one line for the run, stale tickers on it: %s", buf.String())
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
	require.Equal(t, "collector run", rec["msg"])
	require.Equal(t, 1.0, rec["stale"])
	require.Equal(t, []any{"OLD.L"}, rec["stale_tickers"])
	require.Equal(t, "168h0m0s", rec["max_quote_age"])

	// Readers see the last trade, flagged.
	p, err := query.NewLatestPriceHandler(r.store, query.Freshness{Now: r.now}, nil, nil).Handle(context.Background(),
		query.LatestPrice{Email: "a@example.com", Ticker: "OLD.L"})
	require.NoError(t, err)
	require.True(t, p.Stale)
	require.Equal(t, "GBp", p.Currency)
	require.Equal(t, 12.3, p.Price)

	// The next run sees the same stale quote: nothing new anywhere.
	rep, err = r.collector(t, r.brokers).Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, []stockalert.Ticker{"OLD.L"}, rep.Stale)
	require.Equal(t, 3, storetest.Count(t, r.store.DB(), "prices", ""))
	require.Zero(t, storetest.Count(t, r.store.DB(), "outbox", ""))

	// It trades again (a new quote within the age): an event, as for any new quote.
	r.yahoo.SetQuote("OLD.L", 13.1, "GBp", now)
	rep, err = r.collector(t, r.brokers).Run(context.Background())
	require.NoError(t, err)
	require.Empty(t, rep.Stale)
	require.ElementsMatch(t, []stockalert.Ticker{"AAPL", "WKND", "OLD.L"}, readPrices(t, r, 3))
}

// A shorter QUOTE_MAX_AGE flags sooner: the setting is honoured.
func TestRunHonoursTheMaxQuoteAge(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.maxQuoteAge = 10 * time.Minute
	now := r.now()
	r.yahoo.SetQuote("AAPL", 190.5, "USD", now.Add(-9*time.Minute))
	r.yahoo.SetQuote("MSFT", 410, "USD", now.Add(-11*time.Minute))
	r.subscribe(t, "a@example.com", "AAPL", "MSFT")
	rep, err := r.collector(t, r.brokers).Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, []stockalert.Ticker{"MSFT"}, rep.Stale)
	require.Equal(t, []stockalert.Ticker{"AAPL"}, readPrices(t, r, 1))
}

// readPrices returns the tickers of the price events on the rig's topic, having checked that the
// topic holds exactly n (the sum of its partitions' end offsets, read once the run has returned: the
// publish was acknowledged), so no wait is needed to show that nothing more came.
func readPrices(t *testing.T, r *rig, n int) []stockalert.Ticker {
	t.Helper()
	// Read the n events first (a real broker may show a write in its offsets a moment after the
	// acknowledgement), then check that the topic holds no more than those n.
	out := make([]stockalert.Ticker, 0, n)
	for _, m := range kafkatest.Read(t, r.brokers, r.topic, n, 30*time.Second) {
		var ev stockalert.PriceEvent
		require.NoError(t, json.Unmarshal(m.Value, &ev))
		out = append(out, ev.Ticker)
	}

	// The end offsets of a topic just written to may lag on a busy broker's metadata: ask until they
	// show at least the n events read; more than n fails (the stale quote must have published nothing).
	var total int64
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		total, err = kafkatest.MessageCount(ctx, r.brokers, r.topic)
		return err == nil && total >= int64(n)
	}, 30*time.Second, 50*time.Millisecond, "the topic's end offsets never showed the %d events read", n)
	require.Equal(t, int64(n), total, "price events on the topic")
	return out
}

// quotesCounted reads stockalert_collector_quotes_total{outcome} of the last collector built.
func quotesCounted(t *testing.T, r *rig, outcome string) float64 {
	t.Helper()
	mfs, err := r.metrics.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "stockalert_collector_quotes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
