package yahoo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/internal/logcapture"

	"github.com/caarlos0/env/v11"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

var marketTime = time.Date(2025, 3, 14, 19, 59, 0, 0, time.UTC)

type fixture struct {
	fake *yahootest.Server
	c    *yahoo.Client
	reg  *prometheus.Registry
	logs *logcapture.Buffer
}

func newFixture(t *testing.T, cfg yahoo.Config) fixture {
	t.Helper()
	fake := yahootest.NewServer(t)
	if cfg.BaseURL == "" {
		cfg.BaseURL = fake.URL()
	}
	reg := prometheus.NewRegistry()
	logs := &logcapture.Buffer{}
	c, err := yahoo.New(cfg, slog.New(slog.NewTextHandler(logs, nil)), reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return fixture{fake: fake, c: c, reg: reg, logs: logs}
}

func TestQuote(t *testing.T) {
	f := newFixture(t, yahoo.Config{UserAgent: "stockalert-test/1.0"})
	f.fake.SetQuote("AAPL", 213.49, "USD", marketTime)
	f.fake.SetQuote("^GSPC", 5638.94, "USD", marketTime.Add(time.Minute))
	f.fake.SetQuote("BRK-B", 475.1, "USD", marketTime)
	f.fake.SetQuote("EURUSD=X", 1.0874, "USD", marketTime)

	cases := []struct {
		ask  stockalert.Ticker
		want stockalert.Quote
	}{
		{"AAPL", stockalert.Quote{Ticker: "AAPL", Price: 213.49, Currency: "USD", Time: marketTime}},
		{"aapl", stockalert.Quote{Ticker: "AAPL", Price: 213.49, Currency: "USD", Time: marketTime}},
		{"^GSPC", stockalert.Quote{Ticker: "^GSPC", Price: 5638.94, Currency: "USD", Time: marketTime.Add(time.Minute)}},
		{"BRK-B", stockalert.Quote{Ticker: "BRK-B", Price: 475.1, Currency: "USD", Time: marketTime}},
		{"EURUSD=X", stockalert.Quote{Ticker: "EURUSD=X", Price: 1.0874, Currency: "USD", Time: marketTime}},
	}
	for _, tc := range cases {
		got, err := f.c.Quote(context.Background(), tc.ask)
		if err != nil {
			t.Fatalf("Quote(%s): %v", tc.ask, err)
		}
		if !got.Time.Equal(tc.want.Time) || got.Ticker != tc.want.Ticker || got.Price != tc.want.Price || got.Currency != tc.want.Currency {
			t.Errorf("Quote(%s) = %+v, want %+v", tc.ask, got, tc.want)
		}
	}
	if n := f.fake.Requests("^GSPC"); n != 1 {
		t.Errorf("fake saw %d requests for ^GSPC, want 1 (path escaping)", n)
	}
	if uas := f.fake.UserAgents(); len(uas) != 1 || uas[0] != "stockalert-test/1.0" {
		t.Errorf("User-Agents seen = %q, want the configured one", uas)
	}
	if s := f.c.BreakerState(); s != "closed" {
		t.Errorf("BreakerState = %q, want closed", s)
	}
}

func TestQuoteRejectsBadTickerWithoutRequest(t *testing.T) {
	f := newFixture(t, yahoo.Config{})
	for _, bad := range []string{"AA PL", "../AAPL", "AAPL/../../v7", "AAPL?range=max", "AAPL#x", "AAPL%2F", "A\x00B", "ÄAPL", "AAPL\u202e", "&AAPL"} {
		_, err := f.c.Quote(context.Background(), stockalert.Ticker(bad))
		if v, ok := stockalert.AsValidation(err); !ok || v.Field != "ticker" {
			t.Errorf("Quote(%q): err = %v, want a validation error for ticker", bad, err)
		}
	}
	if n := f.fake.Requests(""); n != 0 {
		t.Errorf("fake saw %d requests, want 0: %q", n, f.fake.RequestURIs())
	}
}

// Every symbol travels as one percent-encoded path segment, so none can change the request: & and =
// would otherwise read as query separators to some servers, ^ is not allowed raw in a URL.
func TestQuoteEscapesTheSymbolInThePath(t *testing.T) {
	f := newFixture(t, yahoo.Config{})
	for _, c := range []struct{ symbol, wire string }{
		{"M&M.NS", "M%26M.NS"},
		{"L&TFH.NS", "L%26TFH.NS"},
		{"^GSPC", "%5EGSPC"},
		{"EURUSD=X", "EURUSD%3DX"},
		{"ES=F", "ES%3DF"},
		{"BRK-B", "BRK-B"},
		{"7203.T", "7203.T"},
		{"AAPL&X=1", "AAPL%26X%3D1"}, // a plausible symbol: it cannot add a query parameter
	} {
		f.fake.SetQuote(c.symbol, 100, "INR", marketTime)
		got, err := f.c.Quote(context.Background(), stockalert.Ticker(c.symbol))
		if err != nil {
			t.Fatalf("Quote(%s): %v", c.symbol, err)
		}
		if got.Ticker != stockalert.Ticker(c.symbol) || got.Price != 100 {
			t.Errorf("Quote(%s) = %+v", c.symbol, got)
		}
		// The fake decoded the segment back to the symbol (it answers only symbols it knows) ...
		if n := f.fake.Requests(c.symbol); n != 1 {
			t.Errorf("fake saw %d requests for %s, want 1", n, c.symbol)
		}
		// ... which crossed the wire percent-encoded, with the query intact.
		uris := f.fake.RequestURIs()
		if want := "/v8/finance/chart/" + c.wire + "?interval=1m&range=1d"; uris[len(uris)-1] != want {
			t.Errorf("Quote(%s) sent %q, want %q", c.symbol, uris[len(uris)-1], want)
		}
	}
}

// Yahoo quotes London in pence (GBp), Johannesburg in South African cents (ZAc) and Tel Aviv in agorot
// (ILA): meta.currency is case-sensitive and must come through exactly as quoted.
func TestQuoteKeepsTheCurrencyAsQuoted(t *testing.T) {
	f := newFixture(t, yahoo.Config{})
	for _, c := range []struct {
		symbol   string
		price    float64
		currency string
	}{
		{"VOD.L", 72.5, "GBp"},
		{"NPN.JO", 301520, "ZAc"},
		{"TEVA.TA", 5320, "ILA"},
		{"HSBA.L", 981.4, "GBp"},
		{"III.L", 31.2, "GBP"},
		{"AAPL", 213.49, "USD"},
	} {
		f.fake.SetQuote(c.symbol, c.price, c.currency, marketTime)
		got, err := f.c.Quote(context.Background(), stockalert.Ticker(c.symbol))
		if err != nil {
			t.Fatalf("Quote(%s): %v", c.symbol, err)
		}
		if got.Currency != c.currency || got.Price != c.price {
			t.Errorf("Quote(%s) = %s %q, want %s %q as quoted", c.symbol, stockalert.FormatPrice(got.Price), got.Currency,
				stockalert.FormatPrice(c.price), c.currency)
		}
	}
	// The same from a chart answer written out as Yahoo sends it for a London share.
	f.fake.SetRaw("BARC.L", 200, `{"chart":{"result":[{"meta":{"currency":"GBp","symbol":"BARC.L","exchangeName":"LSE",`+
		`"fullExchangeName":"LSE","instrumentType":"EQUITY","firstTradeDate":567331200,"regularMarketTime":1741976997,`+
		`"hasPrePostMarketData":false,"gmtoffset":0,"timezone":"GMT","exchangeTimezoneName":"Europe/London",`+
		`"regularMarketPrice":289.65,"chartPreviousClose":285.1,"previousClose":285.1,"scale":3,"priceHint":2,`+
		`"dataGranularity":"1m","range":"1d"},"timestamp":[1741976940],"indicators":{"quote":[{"close":[289.65],`+
		`"open":[289.5],"high":[289.7],"low":[289.4],"volume":[120345]}]}}],"error":null}}`)
	got, err := f.c.Quote(context.Background(), "BARC.L")
	if err != nil || got.Currency != "GBp" || got.Price != 289.65 {
		t.Fatalf("Quote(BARC.L) = %+v, %v; want 289.65 GBp", got, err)
	}
}

func TestQuoteUnknownSymbolIsNotFoundAndNotAFailure(t *testing.T) {
	f := newFixture(t, yahoo.Config{BreakerFailures: 2})
	for i := 0; i < 5; i++ {
		_, err := f.c.Quote(context.Background(), "NOPE")
		if !errors.Is(err, stockalert.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		if errors.Is(err, yahoo.ErrUnavailable) {
			t.Fatalf("err = %v must not be ErrUnavailable", err)
		}
	}
	if s := f.c.BreakerState(); s != "closed" {
		t.Errorf("after 5 unknown symbols BreakerState = %q, want closed", s)
	}
	if n := f.fake.Requests("NOPE"); n != 5 {
		t.Errorf("fake saw %d requests, want 5", n)
	}
}

func TestQuoteInvalidResponses(t *testing.T) {
	okBody := func(mutate func(m map[string]any)) string {
		var m map[string]any
		mustUnmarshal(t, mustJSON(t, yahootest.Chart("ABC", 10, "USD", marketTime)), &m)
		mutate(m["chart"].(map[string]any)["result"].([]any)[0].(map[string]any)["meta"].(map[string]any))
		return string(mustJSON(t, m))
	}
	cases := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"not json", 200, `<html>consent</html>`, "decode chart"},
		{"empty object", 200, `{}`, "no chart object"},
		{"empty result", 200, `{"chart":{"result":[],"error":null}}`, "chart.result is empty"},
		{"null result", 200, `{"chart":{"result":null,"error":null}}`, "chart.result is empty"},
		{"no meta", 200, `{"chart":{"result":[{}],"error":null}}`, "meta is missing"},
		{"no price", 200, okBody(func(m map[string]any) { delete(m, "regularMarketPrice") }), "regularMarketPrice is missing"},
		{"null price", 200, okBody(func(m map[string]any) { m["regularMarketPrice"] = nil }), "regularMarketPrice is missing"},
		{"zero price", 200, okBody(func(m map[string]any) { m["regularMarketPrice"] = 0 }), "invalid price"},
		{"negative price", 200, okBody(func(m map[string]any) { m["regularMarketPrice"] = -3 }), "invalid price"},
		{"string price", 200, okBody(func(m map[string]any) { m["regularMarketPrice"] = "10" }), "decode chart"},
		{"no time", 200, okBody(func(m map[string]any) { delete(m, "regularMarketTime") }), "regularMarketTime is missing"},
		{"bad currency", 200, okBody(func(m map[string]any) { m["currency"] = "US DOLLARS" }), "invalid currency"},
		{"other symbol", 200, okBody(func(m map[string]any) { m["symbol"] = "XYZ" }), `got meta.symbol "XYZ"`},
		{"bad request", 400, `{"chart":{"result":null,"error":{"code":"Bad Request","description":"Invalid input"}}}`, "Bad Request: Invalid input"},
		{"404 without chart error", 404, `Not Found`, "status 404"},
		{"chart error on 200", 200, `{"chart":{"result":null,"error":{"code":"Internal","description":"boom"}}}`, "Internal: boom"},
	}
	f := newFixture(t, yahoo.Config{BreakerFailures: 1})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.fake.SetRaw("ABC", tc.status, tc.body)
			_, err := f.c.Quote(context.Background(), "ABC")
			if !errors.Is(err, yahoo.ErrInvalidResponse) {
				t.Fatalf("err = %v, want ErrInvalidResponse", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to mention %q", err, tc.want)
			}
			if s := f.c.BreakerState(); s != "closed" {
				t.Errorf("BreakerState = %q: an invalid answer must not count as a service failure", s)
			}
		})
	}
}

func TestQuoteMissingCurrencyIsUnknown(t *testing.T) {
	f := newFixture(t, yahoo.Config{})
	var m map[string]any
	mustUnmarshal(t, mustJSON(t, yahootest.Chart("ABC", 10, "", marketTime)), &m)
	delete(m["chart"].(map[string]any)["result"].([]any)[0].(map[string]any)["meta"].(map[string]any), "currency")
	f.fake.SetRaw("ABC", 200, string(mustJSON(t, m)))
	q, err := f.c.Quote(context.Background(), "ABC")
	if err != nil || q.Currency != "" || q.Price != 10 {
		t.Fatalf("Quote = %+v, %v; want price 10 and empty currency", q, err)
	}
}

func TestServiceFailuresTripTheBreaker(t *testing.T) {
	cases := []struct {
		name   string
		inject func(*yahootest.Server)
	}{
		{"500", func(s *yahootest.Server) { s.Fail("", 500, 1) }},
		{"502", func(s *yahootest.Server) { s.Fail("", 502, 1) }},
		{"503", func(s *yahootest.Server) { s.Fail("", 503, 1) }},
		// A 429 slows down and is retried (three times): only a fourth in a row fails the request.
		{"429", func(s *yahootest.Server) { s.Fail("", 429, 4) }},
		{"401", func(s *yahootest.Server) { s.Fail("", 401, 1) }},
		{"403", func(s *yahootest.Server) { s.Fail("", 403, 1) }},
		{"timeout", func(s *yahootest.Server) { s.Hang("", 1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, yahoo.Config{BreakerFailures: 1, BreakerOpenTimeout: time.Hour, Timeout: 200 * time.Millisecond})
			f.fake.SetQuote("AAPL", 1, "USD", marketTime)
			tc.inject(f.fake)
			_, err := f.c.Quote(context.Background(), "AAPL")
			if !errors.Is(err, yahoo.ErrUnavailable) || errors.Is(err, yahoo.ErrCircuitOpen) {
				t.Fatalf("err = %v, want ErrUnavailable from the service", err)
			}
			if s := f.c.BreakerState(); s != "open" {
				t.Fatalf("BreakerState = %q, want open", s)
			}
		})
	}
}

func TestConnectionRefusedIsUnavailable(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	c, err := yahoo.New(yahoo.Config{BaseURL: url, BreakerFailures: 1}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Quote(context.Background(), "AAPL")
	if !errors.Is(err, yahoo.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if c.BreakerState() != "open" {
		t.Errorf("BreakerState = %q, want open", c.BreakerState())
	}
}

func TestOpenBreakerFailsFastAndIsObservable(t *testing.T) {
	f := newFixture(t, yahoo.Config{BreakerFailures: 3, BreakerOpenTimeout: time.Hour})
	f.fake.SetQuote("AAPL", 200, "USD", marketTime)
	f.fake.Fail("AAPL", 503, 2)

	for i := 0; i < 2; i++ {
		if _, err := f.c.Quote(context.Background(), "AAPL"); !errors.Is(err, yahoo.ErrUnavailable) {
			t.Fatalf("call %d: err = %v, want ErrUnavailable", i, err)
		}
	}
	// A success resets the count of consecutive failures.
	if _, err := f.c.Quote(context.Background(), "AAPL"); err != nil {
		t.Fatalf("recovered call: %v", err)
	}
	f.fake.Fail("", 503, 3)
	for i := 0; i < 3; i++ {
		if _, err := f.c.Quote(context.Background(), "AAPL"); !errors.Is(err, yahoo.ErrUnavailable) {
			t.Fatalf("call %d: err = %v, want ErrUnavailable", i, err)
		}
	}
	if s := f.c.BreakerState(); s != "open" {
		t.Fatalf("BreakerState = %q, want open", s)
	}
	sent := f.fake.Requests("")
	_, err := f.c.Quote(context.Background(), "AAPL")
	if !errors.Is(err, yahoo.ErrCircuitOpen) || !errors.Is(err, yahoo.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrCircuitOpen and ErrUnavailable", err)
	}
	if n := f.fake.Requests(""); n != sent {
		t.Errorf("an open breaker sent a request (%d -> %d)", sent, n)
	}
	if v := metricValue(t, f.reg, "stockalert_quote_breaker_state", nil); v != 2 {
		t.Errorf("state gauge = %v, want 2 (open)", v)
	}
	if v := metricValue(t, f.reg, "stockalert_quote_breaker_transitions_total", map[string]string{"from": "closed", "to": "open"}); v != 1 {
		t.Errorf("closed->open transitions = %v, want 1", v)
	}
	if logs := f.logs.String(); !strings.Contains(logs, "breaker state changed") || !strings.Contains(logs, "to=open") {
		t.Errorf("no state change logged:\n%s", logs)
	}
}

func TestBreakerHalfOpensAndCloses(t *testing.T) {
	f := newFixture(t, yahoo.Config{BreakerFailures: 1, BreakerOpenTimeout: 50 * time.Millisecond})
	f.fake.SetQuote("AAPL", 200, "USD", marketTime)

	// Trip, half-open, fail the probe: open again.
	f.fake.Fail("", 500, 2)
	if _, err := f.c.Quote(context.Background(), "AAPL"); !errors.Is(err, yahoo.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	require.Eventually(t, func() bool { return f.c.BreakerState() == "half-open" }, 10*time.Second, 10*time.Millisecond)
	if v := metricValue(t, f.reg, "stockalert_quote_breaker_state", nil); v != 1 {
		t.Errorf("state gauge = %v, want 1 (half-open)", v)
	}
	if _, err := f.c.Quote(context.Background(), "AAPL"); !errors.Is(err, yahoo.ErrUnavailable) || errors.Is(err, yahoo.ErrCircuitOpen) {
		t.Fatalf("probe err = %v, want a service failure", err)
	}
	if s := f.c.BreakerState(); s != "open" && s != "half-open" {
		// It may already be half-open again if the machine stalled for longer than the open timeout.
		t.Fatalf("after a failed probe BreakerState = %q", s)
	}

	// Half-open again, and this time the probe succeeds.
	require.Eventually(t, func() bool { return f.c.BreakerState() == "half-open" }, 10*time.Second, 10*time.Millisecond)
	q, err := f.c.Quote(context.Background(), "AAPL")
	if err != nil || q.Price != 200 {
		t.Fatalf("probe = %+v, %v", q, err)
	}
	if s := f.c.BreakerState(); s != "closed" {
		t.Fatalf("after a good probe BreakerState = %q, want closed", s)
	}
	if v := metricValue(t, f.reg, "stockalert_quote_breaker_state", nil); v != 0 {
		t.Errorf("state gauge = %v, want 0 (closed)", v)
	}
	for _, tr := range []struct {
		from, to string
		min      float64
	}{{"closed", "open", 1}, {"open", "half-open", 2}, {"half-open", "open", 1}, {"half-open", "closed", 1}} {
		v := metricValue(t, f.reg, "stockalert_quote_breaker_transitions_total", map[string]string{"from": tr.from, "to": tr.to})
		if v < tr.min {
			t.Errorf("%s->%s transitions = %v, want >= %v", tr.from, tr.to, v, tr.min)
		}
	}
}

func TestCallerGivingUpIsNotAServiceFailure(t *testing.T) {
	f := newFixture(t, yahoo.Config{BreakerFailures: 1, Timeout: time.Minute})
	f.fake.Hang("AAPL", 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.c.Quote(ctx, "AAPL")
		done <- err
	}()
	require.Eventually(t, func() bool { return f.fake.Requests("AAPL") == 1 }, 10*time.Second, 10*time.Millisecond)
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || errors.Is(err, yahoo.ErrUnavailable) {
		t.Fatalf("err = %v, want context.Canceled and not ErrUnavailable", err)
	}
	if s := f.c.BreakerState(); s != "closed" {
		t.Errorf("BreakerState = %q, want closed", s)
	}
}

func TestConcurrentQuotes(t *testing.T) {
	f := newFixture(t, yahoo.Config{})
	symbols := []string{"AAPL", "MSFT", "GOOG", "^GSPC"}
	for i, s := range symbols {
		f.fake.SetQuote(s, float64(100+i), "USD", marketTime)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				k := (g + i) % len(symbols)
				q, err := f.c.Quote(context.Background(), stockalert.Ticker(symbols[k]))
				if err != nil || q.Price != float64(100+k) {
					errs <- fmt.Errorf("Quote(%s) = %+v, %w", symbols[k], q, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := f.fake.Requests(""); n != 80 {
		t.Errorf("fake saw %d requests, want 80", n)
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	cfg, err := env.ParseAs[yahoo.Config]()
	if err != nil {
		t.Fatal(err)
	}
	want := yahoo.Config{
		BaseURL: yahoo.DefaultBaseURL, Timeout: yahoo.DefaultTimeout, UserAgent: yahoo.DefaultUserAgent,
		BreakerFailures: yahoo.DefaultBreakerFailures, BreakerOpenTimeout: yahoo.DefaultBreakerOpenTimeout,
		BreakerHalfOpenRequests: yahoo.DefaultBreakerHalfOpenRequests,
		BatchSize:               yahoo.DefaultBatchSize, RateLimit: yahoo.DefaultRateLimit, RateBurst: yahoo.DefaultRateBurst,
		ThrottleHold: yahoo.DefaultThrottleHold, HandshakeRetry: yahoo.DefaultHandshakeRetry,
	}
	if cfg != want {
		t.Errorf("defaults from env tags = %+v, want %+v", cfg, want)
	}

	t.Setenv("YAHOO_FINANCE_URL", "http://127.0.0.1:9")
	t.Setenv("YAHOO_TIMEOUT", "3s")
	t.Setenv("YAHOO_BREAKER_FAILURES", "7")
	t.Setenv("YAHOO_BREAKER_OPEN_TIMEOUT", "30s")
	t.Setenv("YAHOO_BREAKER_HALF_OPEN_REQUESTS", "2")
	cfg, err = env.ParseAs[yahoo.Config]()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != "http://127.0.0.1:9" || cfg.Timeout != 3*time.Second || cfg.BreakerFailures != 7 ||
		cfg.BreakerOpenTimeout != 30*time.Second || cfg.BreakerHalfOpenRequests != 2 {
		t.Errorf("parsed %+v", cfg)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cases := []struct {
		cfg  yahoo.Config
		name string
	}{
		{yahoo.Config{BaseURL: "query1.finance.yahoo.com"}, "YAHOO_FINANCE_URL"},
		{yahoo.Config{BaseURL: "ftp://example.com"}, "YAHOO_FINANCE_URL"},
		{yahoo.Config{BaseURL: "https://example.com/v8"}, "YAHOO_FINANCE_URL"},
		{yahoo.Config{Timeout: -time.Second}, "YAHOO_TIMEOUT"},
		{yahoo.Config{BreakerOpenTimeout: -time.Second}, "YAHOO_BREAKER_OPEN_TIMEOUT"},
	}
	for _, tc := range cases {
		_, err := yahoo.New(tc.cfg, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("New(%+v) err = %v, want it to name %s", tc.cfg, err, tc.name)
		}
	}
}

func TestNewTwiceOnOneRegistryFails(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := yahoo.New(yahoo.Config{}, nil, reg); err != nil {
		t.Fatal(err)
	}
	if _, err := yahoo.New(yahoo.Config{}, nil, reg); err == nil {
		t.Fatal("second New on the same registry succeeded")
	}
}

func BenchmarkQuote(b *testing.B) {
	fake := yahootest.NewServer(b)
	fake.SetQuote("AAPL", 213.49, "USD", marketTime)
	c, err := yahoo.New(yahoo.Config{BaseURL: fake.URL()}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Quote(context.Background(), "AAPL"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// helpers

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func metricValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !hasLabels(m, labels) {
				continue
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, lp := range m.GetLabel() {
		got[lp.GetName()] = lp.GetValue()
	}
	if got["source"] != "yahoo" {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func TestQuotePreviousClose(t *testing.T) {
	f := newFixture(t, yahoo.Config{})
	cases := []struct {
		name          string
		chart, meta   float64 // what the fake's meta carries; 0 leaves the field out
		wantPrevClose float64
	}{
		{"chartPreviousClose and previousClose", 205.5, 205.5, 205.5},
		{"chartPreviousClose only", 198.25, 0, 198.25},
		{"chartPreviousClose preferred", 198.25, 197, 198.25},
		{"previousClose only", 0, 201.75, 201.75},
		{"neither", 0, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.fake.SetQuote("AAPL", 210, "USD", marketTime)
			f.fake.SetPreviousClose("AAPL", tc.chart, tc.meta)
			q, err := f.c.Quote(context.Background(), "AAPL")
			require.NoError(t, err)
			require.Equal(t, 210.0, q.Price)
			require.Equal(t, tc.wantPrevClose, q.PreviousClose)
			change, known := q.DayChange()
			require.Equal(t, tc.wantPrevClose > 0, known)
			if known {
				require.InDelta(t, 210-tc.wantPrevClose, change, 1e-9)
			}
		})
	}
}

func TestQuoteUnusablePreviousCloseIsUnknownNotAnError(t *testing.T) {
	f := newFixture(t, yahoo.Config{})
	withMeta := func(mutate func(m map[string]any)) string {
		var m map[string]any
		mustUnmarshal(t, mustJSON(t, yahootest.Chart("ABC", 10, "USD", marketTime)), &m)
		mutate(m["chart"].(map[string]any)["result"].([]any)[0].(map[string]any)["meta"].(map[string]any))
		return string(mustJSON(t, m))
	}
	cases := []struct {
		name string
		body string
		want float64
	}{
		{"both null", withMeta(func(m map[string]any) { m["chartPreviousClose"], m["previousClose"] = nil, nil }), 0},
		{"both zero", withMeta(func(m map[string]any) { m["chartPreviousClose"], m["previousClose"] = 0, 0 }), 0},
		{"negative", withMeta(func(m map[string]any) { m["chartPreviousClose"] = -3; delete(m, "previousClose") }), 0},
		{"string", withMeta(func(m map[string]any) { m["chartPreviousClose"] = "9.5"; delete(m, "previousClose") }), 0},
		{"chart null, previousClose usable", withMeta(func(m map[string]any) { m["chartPreviousClose"], m["previousClose"] = nil, 9.5 }), 9.5},
		{"chart negative, previousClose usable", withMeta(func(m map[string]any) { m["chartPreviousClose"], m["previousClose"] = -1, 9.5 }), 9.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.fake.SetRaw("ABC", 200, tc.body)
			q, err := f.c.Quote(context.Background(), "ABC")
			require.NoError(t, err)
			require.Equal(t, 10.0, q.Price)
			require.Equal(t, tc.want, q.PreviousClose)
		})
	}
}
