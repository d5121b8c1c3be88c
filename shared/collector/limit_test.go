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
)

// More distinct tickers than COLLECTOR_MAX_TICKERS: a run prices the bound, says so on its WARN run line
// and in stockalert_collector_tickers_skipped_total, and the next runs take the others in turn.
func TestARunPricesAtMostMaxTickersAndTheRestTakeTurns(t *testing.T) {
	r := newRig(t)
	var buf bytes.Buffer
	r.logger = slog.New(slog.NewJSONHandler(&buf, nil))
	r.maxTickers = 2
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	all := []string{"AAPL", "GOOG", "MSFT", "NVDA", "TSLA"}
	for _, tk := range all {
		r.yahoo.SetQuote(tk, 100, "USD", at)
	}
	r.subscribe(t, "a@example.com", all...)
	c := r.collector(t, r.brokers)

	rep, err := c.Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 5, rep.Tickers)
	require.Equal(t, 2, rep.Quoted)
	require.Equal(t, 3, rep.OverLimit)
	require.Equal(t, 2, r.yahoo.Requests(""), "two quote requests, not five")

	line := runLine(t, buf.String())
	for k, want := range map[string]any{"level": "WARN", "msg": "collector run", "tickers": 5.0, "quoted": 2.0,
		"over_limit": 3.0, "max_tickers": 2.0} {
		require.Equal(t, want, line[k], "%s in %v", k, line)
	}
	require.InDelta(t, 3, counted(t, r, "stockalert_collector_tickers_skipped_total"), 0)

	// Two more runs price the other three (wrapping around): every ticker has had its turn.
	for range 2 {
		rep, err = c.Run(context.Background())
		require.NoError(t, err)
		require.Equal(t, 2, rep.Quoted)
	}
	for _, tk := range all {
		require.Positive(t, r.yahoo.Requests(tk), "%s priced in one of three runs", tk)
	}
	require.Equal(t, 6, r.yahoo.Requests(""))
	require.InDelta(t, 9, counted(t, r, "stockalert_collector_tickers_skipped_total"), 0)
}

func TestARunUnderMaxTickersPricesEveryTickerAndSaysNothingOfTheBound(t *testing.T) {
	r := newRig(t)
	var buf bytes.Buffer
	r.logger = slog.New(slog.NewJSONHandler(&buf, nil))
	r.maxTickers = 2
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	r.yahoo.SetQuote("AAPL", 100, "USD", at)
	r.yahoo.SetQuote("MSFT", 100, "USD", at)
	r.subscribe(t, "a@example.com", "AAPL", "MSFT")

	rep, err := r.collector(t, r.brokers).Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, rep.Quoted)
	require.Zero(t, rep.OverLimit)
	line := runLine(t, buf.String())
	require.Equal(t, "INFO", line["level"])
	require.NotContains(t, line, "over_limit")
	require.Zero(t, counted(t, r, "stockalert_collector_tickers_skipped_total"))
}

// runLine returns the last "collector run" line of a JSON log.
func runLine(t *testing.T, log string) map[string]any {
	t.Helper()
	var found map[string]any
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &rec))
		if rec["msg"] == "collector run" {
			found = rec
		}
	}
	require.NotNil(t, found, "no collector run line in %s", log)
	return found
}

// counted reads a counter without labels of the last collector built.
func counted(t *testing.T, r *rig, name string) float64 {
	t.Helper()
	mfs, err := r.metrics.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
