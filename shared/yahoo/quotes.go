package yahoo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/stockalert/stockalert/shared/stockalert"
)

const quotePath = "/v7/finance/quote"

// BatchSize is how many symbols one Quotes request carries (Config.BatchSize).
func (c *Client) BatchSize() int { return c.batchSize }

// Quotes prices tickers, quotes[i] and errs[i] being tickers[i]'s, with Quote's error contract for
// each. It asks Yahoo's v7 quote endpoint for up to BatchSize symbols per request, one request after
// another (GET {YAHOO_FINANCE_URL}/v7/finance/quote?symbols=A,B,…&crumb=…, with the handshake's cookie;
// a result's regularMarketPrice at regularMarketTime (epoch s) in currency, its previous close
// regularMarketPreviousClose), and prices with Quote's chart request — concurrently, at most
// Config.Conns (else 8) chart fallbacks in flight across all of the Client's Quotes calls, the pace of
// the per-symbol path:
//
//   - every symbol of a batch whose request failed (the handshake failed or waits for its backoff, the
//     crumb was refused twice, any failure status or unusable body), and every symbol when the breaker
//     is not closed. A failed batch is no failure for the breaker: only the chart requests count;
//   - each symbol the batch's answer left out (Yahoo skips symbols it does not know, and
//     yahoo-finance2 drops results of quoteType NONE, delisted), or gave without a usable price: it
//     is unknown only when the chart request says so.
//
// A 401 (Yahoo's "Invalid Crumb": an expired cookie, a crumb Yahoo no longer takes; any other 401
// alike) makes one new handshake and retries the batch once. When ctx ends, the symbols not priced yet get ctx's error.
func (c *Client) Quotes(ctx context.Context, tickers []stockalert.Ticker) (quotes []stockalert.Quote, errs []error) {
	quotes = make([]stockalert.Quote, len(tickers))
	errs = make([]error, len(tickers))
	var idx []int
	var syms []stockalert.Ticker
	for i, raw := range tickers {
		t, err := stockalert.ParseTicker(string(raw))
		if err != nil {
			errs[i] = fmt.Errorf("yahoo quote: %w", err)
			continue
		}
		idx, syms = append(idx, i), append(syms, t)
	}
	for start := 0; start < len(syms); start += c.batchSize {
		end := min(start+c.batchSize, len(syms))
		got, err := c.batch(ctx, syms[start:end])
		var fallbacks sync.WaitGroup
		reason := "missing"
		if err != nil {
			reason = "batch_failed"
			if ctx.Err() == nil {
				c.m.batches.WithLabelValues("fallback").Inc()
				c.logger.DebugContext(ctx, "quote batch failed: pricing its symbols with chart requests", "symbols", end-start, "err", err)
			}
		} else {
			c.m.batches.WithLabelValues("ok").Inc()
		}
		for k := start; k < end; k++ {
			i, t := idx[k], syms[k]
			if q, ok := got[t]; ok {
				quotes[i] = q
				continue
			}
			if ctx.Err() != nil {
				errs[i] = fmt.Errorf("yahoo quote %s: request abandoned: %w", t, context.Cause(ctx))
				continue
			}
			c.m.fallbacks.WithLabelValues(reason).Inc()
			fallbacks.Go(func() {
				if err := c.fallback.Acquire(ctx, 1); err != nil {
					errs[i] = fmt.Errorf("yahoo quote %s: request abandoned: %w", t, context.Cause(ctx))
					return
				}
				defer c.fallback.Release(1)
				quotes[i], errs[i] = c.Quote(ctx, t)
			})
		}
		fallbacks.Wait()
	}
	return quotes, errs
}

// batch asks the v7 quote endpoint for syms and returns the usable quotes it answered, by ticker.
// Errors: the breaker is not closed; the handshake failed or is deferred; the crumb was refused twice;
// any answer but 200 with a quoteResponse; ctx's error. It does not go through the breaker.
func (c *Client) batch(ctx context.Context, syms []stockalert.Ticker) (map[stockalert.Ticker]stockalert.Quote, error) {
	if st := c.breaker.State(); st != gobreaker.StateClosed {
		return nil, fmt.Errorf("breaker %s: symbols go one by one", st)
	}
	names := make([]string, len(syms))
	for i, t := range syms {
		names[i] = string(t)
	}
	symbols := strings.Join(names, ",")
	for attempt := 0; ; attempt++ {
		cookie, crumb, err := c.credentials(ctx)
		if err != nil {
			return nil, err
		}
		u := c.base + quotePath + "?" + url.Values{"symbols": {symbols}, "crumb": {crumb}}.Encode()
		resp, err := c.get(ctx, c.http, u, http.Header{"Accept": {"application/json"}, "Cookie": {cookie}})
		if err != nil {
			return nil, err
		}
		if resp.status == http.StatusUnauthorized {
			refusal := fmt.Errorf("crumb refused: status 401: %s", financeError(resp.body))
			if attempt == 0 {
				c.refused(crumb)
				continue
			}
			c.failedAgain(ctx, crumb, refusal)
			return nil, refusal
		}
		return parseQuotes(resp, syms)
	}
}

// quoteResponse is the part of the v7 quote endpoint's answer we read. Pointers tell missing from zero.
type quoteResponse struct {
	QuoteResponse *struct {
		Result []struct {
			Symbol                     string        `json:"symbol"`
			QuoteType                  string        `json:"quoteType"`
			Currency                   *string       `json:"currency"`
			RegularMarketPrice         *float64      `json:"regularMarketPrice"`
			RegularMarketTime          *int64        `json:"regularMarketTime"`
			RegularMarketPreviousClose lenientNumber `json:"regularMarketPreviousClose"`
		} `json:"result"`
		Error json.RawMessage `json:"error"`
	} `json:"quoteResponse"`
}

// parseQuotes reads a v7 answer: the usable results among the symbols asked for. Results of another
// symbol, of quoteType NONE or without a usable price and time are left out (their symbols go to chart
// requests). Errors: a status but 200, a body that is not a quoteResponse, a quoteResponse.error.
func parseQuotes(resp response, asked []stockalert.Ticker) (map[stockalert.Ticker]stockalert.Quote, error) {
	if resp.status != http.StatusOK {
		return nil, fmt.Errorf("status %d: %.200s", resp.status, resp.body)
	}
	var doc quoteResponse
	if err := json.Unmarshal(resp.body, &doc); err != nil {
		return nil, fmt.Errorf("%w: decode quote: %w", ErrInvalidResponse, err)
	}
	qr := doc.QuoteResponse
	if qr == nil {
		return nil, fmt.Errorf("%w: no quoteResponse object", ErrInvalidResponse)
	}
	if e := string(qr.Error); e != "" && e != "null" {
		return nil, fmt.Errorf("%w: quoteResponse.error: %.200s", ErrInvalidResponse, e)
	}
	want := make(map[stockalert.Ticker]bool, len(asked))
	for _, t := range asked {
		want[t] = true
	}
	got := make(map[stockalert.Ticker]stockalert.Quote, len(qr.Result))
	for _, r := range qr.Result {
		t := stockalert.Ticker(strings.ToUpper(r.Symbol))
		if !want[t] || r.QuoteType == "NONE" || r.RegularMarketPrice == nil || r.RegularMarketTime == nil || *r.RegularMarketTime <= 0 {
			continue
		}
		q := stockalert.Quote{Ticker: t, Price: *r.RegularMarketPrice, Time: time.Unix(*r.RegularMarketTime, 0).UTC(),
			PreviousClose: previousClose(float64(r.RegularMarketPreviousClose), 0)}
		if r.Currency != nil {
			q.Currency = *r.Currency // as quoted, case-sensitive (GBp)
		}
		if q.Validate() != nil {
			continue
		}
		got[t] = q
	}
	return got, nil
}

// financeError is the description of a {"finance":{"error":{…}}} body (Yahoo's 401 "Invalid Crumb"),
// else the body's start.
func financeError(body []byte) string {
	var doc struct {
		Finance struct {
			Error *struct {
				Code        string `json:"code"`
				Description string `json:"description"`
			} `json:"error"`
		} `json:"finance"`
	}
	if json.Unmarshal(body, &doc) == nil && doc.Finance.Error != nil {
		return doc.Finance.Error.Code + ": " + doc.Finance.Error.Description
	}
	return fmt.Sprintf("%.100s", body)
}
