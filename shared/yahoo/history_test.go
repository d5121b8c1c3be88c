package yahoo_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

func f64(v float64) *float64 { return &v }

// History asks range with its interval, pairs timestamp with indicators.quote[0].close, skips the
// null closes and keeps the currency as quoted.
func TestHistoryParsesClosesAndSkipsNulls(t *testing.T) {
	y := yahootest.NewServer(t)
	t0 := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	y.SetHistory("VOD.L", "5d", "GBp", []yahootest.Bar{
		{Time: t0, Close: f64(72.1)},
		{Time: t0.Add(30 * time.Minute), Close: nil},
		{Time: t0.Add(time.Hour), Close: f64(72.6)},
	})
	c, err := yahoo.New(yahoo.Config{BaseURL: y.URL(), Timeout: 2 * time.Second}, nil, nil)
	require.NoError(t, err)

	h, err := c.History(context.Background(), "VOD.L", stockalert.Range5Days)
	require.NoError(t, err)
	require.Equal(t, "GBp", h.Currency)
	require.Equal(t, []stockalert.PricePoint{{Time: t0, Price: 72.1}, {Time: t0.Add(time.Hour), Price: 72.6}}, h.Points)
	require.Equal(t, []string{"/v8/finance/chart/VOD.L?interval=30m&range=5d"}, y.RequestURIs())

	_, err = c.History(context.Background(), "NOPE", stockalert.Range1Year)
	require.ErrorIs(t, err, stockalert.ErrNotFound)
	_, err = c.History(context.Background(), "VOD.L", "2w")
	var ve *stockalert.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "range", ve.Field)
}

// Every range's interval is one Yahoo serves for it (the fake refuses intraday bars past 60 days).
func TestHistoryIntervalsAreAcceptedForEveryRange(t *testing.T) {
	y := yahootest.NewServer(t)
	y.SetQuote("AAPL", 201.3, "USD", time.Now())
	c, err := yahoo.New(yahoo.Config{BaseURL: y.URL(), Timeout: 2 * time.Second}, nil, nil)
	require.NoError(t, err)
	for _, rng := range stockalert.ChartRanges {
		_, err := c.History(context.Background(), "AAPL", rng)
		require.NoError(t, err, "range %s interval %s", rng, yahoo.HistoryInterval(rng))
	}
}

// History and Quote share one breaker: failing histories open it, and then quotes fail fast too.
func TestHistoryGoesThroughTheQuoteBreaker(t *testing.T) {
	y := yahootest.NewServer(t)
	y.SetQuote("AAPL", 201.3, "USD", time.Now())
	c, err := yahoo.New(yahoo.Config{BaseURL: y.URL(), Timeout: 2 * time.Second, BreakerFailures: 2}, nil, nil)
	require.NoError(t, err)
	y.Fail("", http.StatusServiceUnavailable, 2)
	for range 2 {
		_, err := c.History(context.Background(), "AAPL", stockalert.Range1Month)
		require.ErrorIs(t, err, yahoo.ErrUnavailable)
	}
	require.Equal(t, "open", c.BreakerState())
	_, err = c.History(context.Background(), "AAPL", stockalert.Range1Month)
	require.ErrorIs(t, err, yahoo.ErrCircuitOpen)
	_, err = c.Quote(context.Background(), "AAPL")
	require.ErrorIs(t, err, yahoo.ErrCircuitOpen)
	require.Equal(t, 2, y.Requests(""), "nothing sent while open")
}
