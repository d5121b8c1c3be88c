package collector_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/yahoo"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// A source that prices many tickers per request gets them in batches of its size: five tickers in
// batches of two are three quote requests and no chart request.
func TestARunPricesInBatchesOfTheSourcesSize(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	client, err := yahoo.New(yahoo.Config{BaseURL: r.yahoo.URL(), Timeout: 2 * time.Second, BatchSize: 2}, slog.New(slog.DiscardHandler), nil)
	require.NoError(t, err)
	r.client = client
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	all := []string{"AAPL", "GOOG", "MSFT", "NVDA", "TSLA"}
	for _, tk := range all {
		r.yahoo.SetQuote(tk, 100, "USD", at)
	}
	r.subscribe(t, "a@example.com", all...)

	rep, err := r.collector(t, r.brokers).Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 5, rep.Quoted)
	require.Equal(t, 3, r.yahoo.HTTPRequests(yahootest.EndpointQuote))
	require.Zero(t, r.yahoo.HTTPRequests(yahootest.EndpointChart))
	require.Equal(t, 1, r.yahoo.HTTPRequests(yahootest.EndpointCrumb), "one handshake for the run")
}

// YAHOO_BATCH_SIZE=1 turns batching off: one chart request per ticker, no handshake.
func TestABatchSizeOfOnePricesEachTickerByItsChart(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	client, err := yahoo.New(yahoo.Config{BaseURL: r.yahoo.URL(), Timeout: 2 * time.Second, BatchSize: 1}, slog.New(slog.DiscardHandler), nil)
	require.NoError(t, err)
	r.client = client
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	r.yahoo.SetQuote("AAPL", 100, "USD", at)
	r.yahoo.SetQuote("MSFT", 100, "USD", at)
	r.subscribe(t, "a@example.com", "AAPL", "MSFT")

	rep, err := r.collector(t, r.brokers).Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, rep.Quoted)
	require.Equal(t, 2, r.yahoo.HTTPRequests(yahootest.EndpointChart))
	require.Zero(t, r.yahoo.HTTPRequests(yahootest.EndpointCookie))
}
