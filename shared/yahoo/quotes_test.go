package yahoo_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

func tickers(s ...string) []stockalert.Ticker {
	out := make([]stockalert.Ticker, len(s))
	for i, v := range s {
		out[i] = stockalert.Ticker(v)
	}
	return out
}

// quotes runs Quotes and requires every ticker priced.
func quotes(t *testing.T, c *yahoo.Client, ts ...string) []stockalert.Quote {
	t.Helper()
	qs, errs := c.Quotes(context.Background(), tickers(ts...))
	for i, err := range errs {
		require.NoError(t, err, ts[i])
	}
	return qs
}

func host(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	return u.Host
}

func TestQuotesBatchesBehindTheHandshake(t *testing.T) {
	f := newFixture(t, yahoo.Config{BatchSize: 2})
	f.fake.SetQuote("AAPL", 213.49, "USD", marketTime)
	f.fake.SetQuote("VOD.L", 72.5, "GBp", marketTime)
	f.fake.SetQuote("MSFT", 410, "USD", marketTime)
	f.fake.SetPreviousClose("MSFT", 400, 0)

	qs := quotes(t, f.c, "aapl", "VOD.L", "MSFT")
	require.Equal(t, stockalert.Quote{Ticker: "AAPL", Price: 213.49, Currency: "USD", Time: marketTime, PreviousClose: 212.42}, qs[0])
	require.Equal(t, "GBp", qs[1].Currency, "as quoted")
	require.Equal(t, 400.0, qs[2].PreviousClose, "regularMarketPreviousClose")

	require.Equal(t, 1, f.fake.HTTPRequests(yahootest.EndpointCookie), "one handshake")
	require.Equal(t, 1, f.fake.HTTPRequests(yahootest.EndpointCrumb))
	require.Equal(t, 2, f.fake.HTTPRequests(yahootest.EndpointQuote), "3 symbols in batches of 2")
	require.Zero(t, f.fake.HTTPRequests(yahootest.EndpointChart))
	for _, r := range f.fake.Log() {
		if r.Endpoint == yahootest.EndpointQuote {
			require.Contains(t, r.URI, "crumb=", "the crumb travels with the batch")
		}
	}

	quotes(t, f.c, "AAPL")
	require.Equal(t, 1, f.fake.HTTPRequests(yahootest.EndpointCookie), "the crumb is kept")
	require.Equal(t, 3.0, metricValue(t, f.reg, "stockalert_quote_batches_total", map[string]string{"outcome": "ok"}))
	require.Equal(t, 1.0, metricValue(t, f.reg, "stockalert_quote_handshakes_total", map[string]string{"outcome": "ok"}))
}

func TestQuotesReHandshakeOnceWhenTheCrumbIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(*yahootest.Server)
	}{
		{"invalid crumb", (*yahootest.Server).InvalidateCrumbs},
		{"expired cookie", (*yahootest.Server).ExpireCookies},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, yahoo.Config{BreakerFailures: 1})
			f.fake.SetQuote("AAPL", 1, "USD", marketTime)
			quotes(t, f.c, "AAPL")
			tc.spoil(f.fake)

			quotes(t, f.c, "AAPL")
			require.Equal(t, 2, f.fake.HTTPRequests(yahootest.EndpointCrumb), "one new handshake")
			require.Equal(t, 3, f.fake.HTTPRequests(yahootest.EndpointQuote), "the refused batch was retried once")
			require.Zero(t, f.fake.HTTPRequests(yahootest.EndpointChart), "no fallback needed")
			var refused int
			for _, r := range f.fake.Log() {
				if r.Endpoint == yahootest.EndpointQuote && r.Status == 401 {
					refused++
				}
			}
			require.Equal(t, 1, refused)
			require.Equal(t, "closed", f.c.BreakerState())
		})
	}
}

func TestAFailingHandshakeFallsBackToChartsAndWaitsForItsBackoff(t *testing.T) {
	f := newFixture(t, yahoo.Config{BreakerFailures: 1})
	f.fake.SetQuote("AAPL", 1, "USD", marketTime)
	f.fake.SetQuote("MSFT", 2, "USD", marketTime)
	f.fake.FailEndpoint(yahootest.EndpointCookie, 503, 1)

	qs := quotes(t, f.c, "AAPL", "MSFT")
	require.Equal(t, 2.0, qs[1].Price)
	require.Equal(t, 2, f.fake.HTTPRequests(yahootest.EndpointChart), "every symbol by its chart")
	require.Equal(t, "closed", f.c.BreakerState(), "a failed handshake is no outage")
	require.Equal(t, 1.0, metricValue(t, f.reg, "stockalert_quote_handshakes_total", map[string]string{"outcome": "failed"}))
	require.Equal(t, 2.0, metricValue(t, f.reg, "stockalert_quote_fallbacks_total", map[string]string{"reason": "batch_failed"}))

	// The next run does not try again before the backoff (YAHOO_HANDSHAKE_RETRY, 2 min) is over.
	quotes(t, f.c, "AAPL", "MSFT")
	require.Equal(t, 1, f.fake.HTTPRequests(yahootest.EndpointCookie))
	require.Equal(t, 4, f.fake.HTTPRequests(yahootest.EndpointChart))
	require.Zero(t, f.fake.HTTPRequests(yahootest.EndpointQuote))
}

// A batch waiting for another's handshake gives up with its own caller: a hanging cookie host holds
// only the batch that makes the handshake, up to YAHOO_TIMEOUT, not every batch waiting behind it.
func TestAWaiterForTheHandshakeGivesUpWithItsCaller(t *testing.T) {
	f := newFixture(t, yahoo.Config{Timeout: time.Minute})
	f.fake.SetQuote("AAPL", 1, "USD", marketTime)
	f.fake.Hang("", 1) // the first request: the cookie request of the first caller's handshake

	first, cancelFirst := context.WithCancel(context.Background())
	defer cancelFirst()
	firstDone := make(chan struct{})
	go func() {
		defer close(firstDone)
		f.c.Quotes(first, tickers("AAPL"))
	}()
	require.Eventually(t, func() bool { return f.fake.HTTPRequests(yahootest.EndpointCookie) == 1 }, 10*time.Second, 5*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	secondDone := make(chan []error)
	go func() {
		_, errs := f.c.Quotes(ctx, tickers("AAPL"))
		secondDone <- errs
	}()
	select {
	case errs := <-secondDone:
		require.ErrorIs(t, errs[0], context.DeadlineExceeded)
	case <-time.After(30 * time.Second):
		t.Fatal("the second caller still waits for the first one's handshake")
	}
	cancelFirst()
	<-firstDone
}

func TestTheHandshakeIsRetriedAfterItsBackoff(t *testing.T) {
	f := newFixture(t, yahoo.Config{HandshakeRetry: time.Millisecond})
	f.fake.SetQuote("AAPL", 1, "USD", marketTime)
	f.fake.FailEndpoint(yahootest.EndpointCrumb, 500, 1)
	quotes(t, f.c, "AAPL")
	require.Equal(t, 1, f.fake.HTTPRequests(yahootest.EndpointChart))
	require.Eventually(t, func() bool {
		quotes(t, f.c, "AAPL")
		return f.fake.HTTPRequests(yahootest.EndpointQuote) == 1
	}, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, 2, f.fake.HTTPRequests(yahootest.EndpointCrumb))
}

func TestAFailingBatchFallsBackToChartsWithoutTrippingTheBreaker(t *testing.T) {
	f := newFixture(t, yahoo.Config{BreakerFailures: 1})
	f.fake.SetQuote("AAPL", 1, "USD", marketTime)
	f.fake.FailEndpoint(yahootest.EndpointQuote, 502, 1)
	quotes(t, f.c, "AAPL")
	require.Equal(t, 1, f.fake.HTTPRequests(yahootest.EndpointChart))
	require.Equal(t, "closed", f.c.BreakerState())
	require.Equal(t, 1.0, metricValue(t, f.reg, "stockalert_quote_batches_total", map[string]string{"outcome": "fallback"}))
}

// The chart fallbacks of a failed batch go concurrently, as the per-symbol path did: one hanging
// chart request does not hold up the batch's other symbols (sequentially, 50 fallbacks at Yahoo's
// 300 ms filled COLLECTOR_QUOTE_TIMEOUT's 15 s and the last symbols failed).
func TestAFailedBatchsFallbacksDoNotWaitForEachOther(t *testing.T) {
	f := newFixture(t, yahoo.Config{Timeout: time.Minute})
	f.fake.SetQuote("AAPL", 1, "USD", marketTime)
	f.fake.SetQuote("MSFT", 2, "USD", marketTime)
	f.fake.FailEndpoint(yahootest.EndpointQuote, 502, 1)
	f.fake.Hang("AAPL", 1) // AAPL's chart request, the first fallback

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []error)
	go func() {
		_, errs := f.c.Quotes(ctx, tickers("AAPL", "MSFT"))
		done <- errs
	}()
	require.Eventually(t, func() bool { return f.fake.Requests("MSFT") == 2 }, 10*time.Second, 5*time.Millisecond,
		"MSFT's chart request goes while AAPL's hangs")
	cancel()
	errs := <-done
	require.ErrorIs(t, errs[0], context.Canceled)
	require.NoError(t, errs[1])
}

func TestASymbolMissingFromTheBatchGoesToItsChart(t *testing.T) {
	f := newFixture(t, yahoo.Config{})
	f.fake.SetQuote("AAPL", 1, "USD", marketTime)
	f.fake.SetQuote("NEWCO", 7, "USD", marketTime)
	f.fake.LeaveOutOfQuotes("NEWCO")

	qs, errs := f.c.Quotes(context.Background(), tickers("AAPL", "NEWCO", "NOPE", "BAD/SYM"))
	require.NoError(t, errs[0])
	require.NoError(t, errs[1], "left out of the batch, priced by its chart")
	require.Equal(t, 7.0, qs[1].Price)
	require.ErrorIs(t, errs[2], stockalert.ErrNotFound, "unknown because the chart says so")
	var ve *stockalert.ValidationError
	require.ErrorAs(t, errs[3], &ve, "a malformed ticker is not sent")
	require.Equal(t, 1, f.fake.HTTPRequests(yahootest.EndpointQuote))
	require.Equal(t, 2, f.fake.HTTPRequests(yahootest.EndpointChart), "NEWCO and NOPE")
	require.Equal(t, 2.0, metricValue(t, f.reg, "stockalert_quote_fallbacks_total", map[string]string{"reason": "missing"}))
	require.NotContains(t, strings.Join(f.fake.RequestURIs(), " "), "BAD")
}

// A 429 with Retry-After: the batch waits at least that long, is retried and prices everything; the
// host's rate is halved for the rest of the run (YAHOO_THROTTLE_HOLD).
func TestA429SlowsDownInsteadOfFailingSymbols(t *testing.T) {
	f := newFixture(t, yahoo.Config{BreakerFailures: 1})
	f.fake.SetQuote("AAPL", 1, "USD", marketTime)
	f.fake.SetQuote("MSFT", 2, "USD", marketTime)
	quotes(t, f.c, "AAPL") // the handshake, out of the way
	h := host(t, f.fake.URL())
	require.Equal(t, float64(yahoo.DefaultRateLimit), metricValue(t, f.reg, "stockalert_quote_rate_limit", map[string]string{"host": h}))

	f.fake.Throttle(1, time.Second)
	quotes(t, f.c, "AAPL", "MSFT")
	require.Equal(t, "closed", f.c.BreakerState())
	require.Zero(t, f.fake.HTTPRequests(yahootest.EndpointChart), "retried as a batch, not symbol by symbol")
	require.Equal(t, 1.0, metricValue(t, f.reg, "stockalert_quote_throttled_total", map[string]string{"host": h}))
	require.Equal(t, float64(yahoo.DefaultRateLimit)/2, metricValue(t, f.reg, "stockalert_quote_rate_limit", map[string]string{"host": h}))

	log := f.fake.Log()
	last, throttled := log[len(log)-1], log[len(log)-2]
	require.Equal(t, 429, throttled.Status)
	require.Equal(t, 200, last.Status)
	require.GreaterOrEqual(t, last.At.Sub(throttled.At), time.Second, "Retry-After honoured")
}

func TestTheLoweredRateComesBackAfterTheHold(t *testing.T) {
	f := newFixture(t, yahoo.Config{ThrottleHold: time.Millisecond})
	f.fake.SetQuote("AAPL", 1, "USD", marketTime)
	f.fake.Throttle(1, 0)
	quotes(t, f.c, "AAPL")
	h := host(t, f.fake.URL())
	require.Eventually(t, func() bool {
		quotes(t, f.c, "AAPL")
		return metricValue(t, f.reg, "stockalert_quote_rate_limit", map[string]string{"host": h}) == yahoo.DefaultRateLimit
	}, 10*time.Second, 5*time.Millisecond)
}

func TestAnOutageStillOpensTheBreaker(t *testing.T) {
	// One chart fallback at a time (in no set order), so that the last one comes after the breaker opened.
	f := newFixture(t, yahoo.Config{BreakerFailures: 2, Conns: 1})
	f.fake.SetQuote("AAPL", 1, "USD", marketTime)
	f.fake.SetQuote("MSFT", 2, "USD", marketTime)
	f.fake.SetQuote("GOOG", 3, "USD", marketTime)
	f.fake.Fail("", 500, 1000)

	_, errs := f.c.Quotes(context.Background(), tickers("AAPL", "MSFT", "GOOG"))
	open := 0
	for _, err := range errs {
		require.ErrorIs(t, err, yahoo.ErrUnavailable)
		if errors.Is(err, yahoo.ErrCircuitOpen) {
			open++
		}
	}
	require.Equal(t, 1, open, "the third fallback met the open breaker: %v", errs)
	require.Equal(t, "open", f.c.BreakerState())

	before := f.fake.HTTPRequests("")
	_, errs = f.c.Quotes(context.Background(), tickers("AAPL"))
	require.ErrorIs(t, errs[0], yahoo.ErrCircuitOpen)
	require.Equal(t, before, f.fake.HTTPRequests(""), "an open breaker sends nothing, batch or handshake")
}

func TestQuotesGivesUpWithTheCaller(t *testing.T) {
	f := newFixture(t, yahoo.Config{})
	f.fake.SetQuote("AAPL", 1, "USD", marketTime)
	f.fake.Hang("AAPL", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, errs := f.c.Quotes(ctx, tickers("AAPL"))
	require.ErrorIs(t, errs[0], context.DeadlineExceeded)
	require.Zero(t, f.fake.HTTPRequests(yahootest.EndpointChart), "no fallback once the caller gave up")
	require.Equal(t, "closed", f.c.BreakerState())
}

// Our own request budget running dry before the caller's deadline is no outage of Yahoo's.
func TestAnExhaustedBudgetIsNoOutage(t *testing.T) {
	f := newFixture(t, yahoo.Config{BreakerFailures: 1, RateLimit: 0.01, RateBurst: 1, BatchSize: 1})
	f.fake.SetQuote("AAPL", 1, "USD", marketTime)
	_, err := f.c.Quote(context.Background(), "AAPL") // the burst's one token
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = f.c.Quote(ctx, "AAPL") // the next token is 100 s away
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, yahoo.ErrUnavailable)
	require.Equal(t, "closed", f.c.BreakerState())
	require.Equal(t, 1, f.fake.HTTPRequests(""))
}
