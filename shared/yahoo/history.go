package yahoo

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// historyIntervals maps each chart range to the bar interval asked with it. The pairs stay within
// what Yahoo's chart API serves (yfinance's history(): 1m bars only for the last 7 days, intraday
// bars other than 1h/60m only for the last 60 days, 1h for 730 days): a few dozen to a few hundred
// closes per chart.
var historyIntervals = map[stockalert.ChartRange]string{
	stockalert.Range1Day:    "5m",
	stockalert.Range5Days:   "30m",
	stockalert.Range1Month:  "1h",
	stockalert.Range6Months: "1d",
	stockalert.Range1Year:   "1d",
}

// HistoryInterval is the chart API `interval` History asks with rng ("" for an unknown range).
func HistoryInterval(rng stockalert.ChartRange) string { return historyIntervals[rng] }

// History returns ticker's closes over rng (GET /v8/finance/chart/{SYMBOL}?range=…&interval=…, see
// HistoryInterval), oldest first: the chart's `timestamp` (Unix seconds) paired with
// `indicators.quote[0].close`, bars whose close is null (or not a positive finite number) skipped, in
// meta.currency as quoted. It goes through the same circuit breaker as Quote.
//
// Errors: a *stockalert.ValidationError for a malformed ticker or an unknown range (nothing is sent);
// stockalert.ErrNotFound when Yahoo does not know the symbol or the range holds no close;
// ErrUnavailable (and ErrCircuitOpen) as for Quote; ErrInvalidResponse for an unusable answer.
func (c *Client) History(ctx context.Context, ticker stockalert.Ticker, rng stockalert.ChartRange) (stockalert.PriceHistory, error) {
	t, err := stockalert.ParseTicker(string(ticker))
	if err != nil {
		return stockalert.PriceHistory{}, fmt.Errorf("yahoo history: %w", err)
	}
	interval, ok := historyIntervals[rng]
	if !ok {
		return stockalert.PriceHistory{}, fmt.Errorf("yahoo history: %w", stockalert.Invalid("range", "must be one of 1d, 5d, 1mo, 6mo, 1y"))
	}
	var h stockalert.PriceHistory
	err = c.guarded(func() error {
		doc, err := c.fetch(ctx, t, url.Values{"range": {string(rng)}, "interval": {interval}})
		if err != nil {
			return err
		}
		h, err = parseHistory(t, rng, doc)
		return err
	})
	if err != nil {
		return stockalert.PriceHistory{}, fmt.Errorf("yahoo history %s %s: %w", t, rng, err)
	}
	return h, nil
}

func parseHistory(t stockalert.Ticker, rng stockalert.ChartRange, doc chartResponse) (stockalert.PriceHistory, error) {
	if doc.Chart == nil || len(doc.Chart.Result) == 0 {
		return stockalert.PriceHistory{}, fmt.Errorf("%w: no chart result", ErrInvalidResponse)
	}
	r := doc.Chart.Result[0]
	if r.Meta != nil && r.Meta.Symbol != "" && !strings.EqualFold(r.Meta.Symbol, string(t)) {
		return stockalert.PriceHistory{}, fmt.Errorf("%w: asked for %s, got meta.symbol %q", ErrInvalidResponse, t, r.Meta.Symbol)
	}
	h := stockalert.PriceHistory{Ticker: t, Range: rng}
	if r.Meta != nil && r.Meta.Currency != nil {
		h.Currency = *r.Meta.Currency
	}
	var closes []*float64
	if r.Indicators != nil && len(r.Indicators.Quote) > 0 {
		closes = r.Indicators.Quote[0].Close
	}
	if len(closes) != len(r.Timestamp) {
		return stockalert.PriceHistory{}, fmt.Errorf("%w: %d timestamps but %d closes", ErrInvalidResponse, len(r.Timestamp), len(closes))
	}
	for i, ts := range r.Timestamp {
		c := closes[i]
		if c == nil || *c <= 0 || math.IsInf(*c, 0) || math.IsNaN(*c) || ts <= 0 {
			continue
		}
		h.Points = append(h.Points, stockalert.PricePoint{Time: time.Unix(ts, 0).UTC(), Price: *c})
	}
	if len(h.Points) == 0 {
		return stockalert.PriceHistory{}, fmt.Errorf("no closes of %s over %s: %w", t, rng, stockalert.ErrNotFound)
	}
	return h, nil
}
