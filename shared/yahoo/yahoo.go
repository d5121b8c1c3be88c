// Package yahoo is the quote source over Yahoo Finance: the chart API
// (GET /v8/finance/chart/{SYMBOL}?range=1d&interval=1m) for one symbol and for histories, and the v7
// quote API (GET /v7/finance/quote?symbols=A,B,…&crumb=…, behind a cookie and crumb handshake) for
// many symbols per request, with the chart call as its fallback (see Quotes).
//
// Every request goes through a circuit breaker (github.com/sony/gobreaker/v2). Only failures of the
// service count against it: 5xx, 429, 401/403 (Yahoo refusing us), timeouts and connection errors. An
// unknown symbol, a malformed payload or a caller that gives up do not. While the breaker is open, Quote
// fails fast with an error wrapping ErrCircuitOpen (and ErrUnavailable). State changes are logged and
// exported as Prometheus metrics.
//
// Every request also spends from a request budget per upstream host (golang.org/x/time/rate): a 429,
// or an error answer carrying Retry-After, halves that host's rate and pauses it for the Retry-After
// before the request is retried (see Config.RateLimit and Config.ThrottleHold).
//
// A Client is safe for concurrent use. Bounding how many requests are in flight is the caller's
// business (Config.Conns sizes the connection pool for it).
package yahoo

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/semaphore"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// Defaults applied by New to zero fields of Config (the env tags carry the same values).
const (
	DefaultBaseURL                 = "https://query1.finance.yahoo.com"
	DefaultTimeout                 = 10 * time.Second
	DefaultUserAgent               = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	DefaultBreakerFailures         = 5
	DefaultBreakerOpenTimeout      = time.Minute
	DefaultBreakerHalfOpenRequests = 1
	// DefaultCookieURL answers any request with Yahoo's session cookie (usually on a 404 page); the
	// handshake of yahoo-finance2 and yfinance starts there.
	DefaultCookieURL = "https://fc.yahoo.com"
	// CrumbPath is the crumb endpoint's path on BaseURL's host.
	CrumbPath = "/v1/test/getcrumb"
	// DefaultBatchSize is the symbols per v7 quote request (measured: see the README's "Collection
	// at scale").
	DefaultBatchSize = 50
	// DefaultRateLimit and DefaultRateBurst are each host's request budget, in requests/s.
	DefaultRateLimit = 100
	DefaultRateBurst = 100
	// DefaultThrottleHold is how long a host keeps the rate a 429 lowered after its last 429.
	DefaultThrottleHold = time.Minute
	// DefaultHandshakeRetry is the first wait after a failed handshake (then doubling, up to
	// maxHandshakeRetry).
	DefaultHandshakeRetry = 2 * time.Minute
)

const (
	maxBody                 = 4 << 20 // a 1d/1m chart is ~60 KB
	sourceLabel             = "yahoo"
	chartPathPrefix         = "/v8/finance/chart/"
	defaultMaxIdlePerHost   = 16
	defaultIdleConnsTimeout = 90 * time.Second
	// maxThrottleRetries is how many times one request is retried after a 429 before it fails.
	maxThrottleRetries = 3
	maxHandshakeRetry  = time.Hour
	// defaultFallbacks bounds the chart fallbacks of Quotes in flight when Config.Conns is 0: the
	// collector's default concurrency.
	defaultFallbacks = 8
)

// Errors Quote wraps; test them with errors.Is.
var (
	// ErrUnavailable: Yahoo did not answer usefully (5xx, 429, 401/403, timeout, connection error), or
	// the breaker is open. Try again later; the next collector run will.
	ErrUnavailable = errors.New("yahoo finance unavailable")
	// ErrCircuitOpen: the breaker refused the call without sending it. Errors wrapping it also wrap
	// ErrUnavailable.
	ErrCircuitOpen = errors.New("circuit breaker open")
	// ErrInvalidResponse: Yahoo answered, but not with a usable quote (malformed JSON, missing price or
	// time, an unexpected status such as 400). Retrying the same symbol is unlikely to help.
	ErrInvalidResponse = errors.New("invalid yahoo finance response")
)

// Config configures a Client; parse it with github.com/caarlos0/env/v11. Zero fields take the defaults.
type Config struct {
	// BaseURL is scheme and host of the chart API, without a path.
	BaseURL string `env:"YAHOO_FINANCE_URL" envDefault:"https://query1.finance.yahoo.com"`
	// Timeout bounds one request, from dial to the last byte of the body.
	Timeout time.Duration `env:"YAHOO_TIMEOUT" envDefault:"10s"`
	// UserAgent is sent with every request; Yahoo answers 429 to many non-browser agents.
	UserAgent string `env:"YAHOO_USER_AGENT" envDefault:"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"`
	// BreakerFailures is how many consecutive service failures open the breaker.
	BreakerFailures uint32 `env:"YAHOO_BREAKER_FAILURES" envDefault:"5"`
	// BreakerOpenTimeout is how long the breaker stays open before letting a probe through.
	BreakerOpenTimeout time.Duration `env:"YAHOO_BREAKER_OPEN_TIMEOUT" envDefault:"1m"`
	// BreakerHalfOpenRequests is how many probes may run while half-open; as many consecutive
	// successes close the breaker again.
	BreakerHalfOpenRequests uint32 `env:"YAHOO_BREAKER_HALF_OPEN_REQUESTS" envDefault:"1"`
	// CookieURL is where the handshake gets Yahoo's session cookie: the Set-Cookie of whatever it
	// answers (fc.yahoo.com answers 404 with it). Empty: DefaultCookieURL when BaseURL is Yahoo's
	// (DefaultBaseURL), else BaseURL itself (a fake or a proxy that serves the handshake on one host).
	CookieURL string `env:"YAHOO_COOKIE_URL"`
	// CrumbURL answers the crumb that goes with the cookie, as a plain-text body. Empty:
	// BaseURL + CrumbPath.
	CrumbURL string `env:"YAHOO_CRUMB_URL"`
	// BatchSize is how many symbols one v7 quote request carries (Quotes). 1 turns batching off: the
	// collector then prices each symbol with its own chart request.
	BatchSize int `env:"YAHOO_BATCH_SIZE" envDefault:"50"`
	// RateLimit is each upstream host's request budget in requests/s, RateBurst how many may go at
	// once (golang.org/x/time/rate's token bucket).
	RateLimit float64 `env:"YAHOO_RATE_LIMIT" envDefault:"100"`
	RateBurst int     `env:"YAHOO_RATE_BURST" envDefault:"100"`
	// ThrottleHold is how long a host keeps the lowered rate after its last 429: then the next
	// request finds the configured rate back.
	ThrottleHold time.Duration `env:"YAHOO_THROTTLE_HOLD" envDefault:"1m"`
	// HandshakeRetry is how long after a failed handshake the next one may be tried (meanwhile Quotes
	// falls back to chart requests); it doubles with each failure in a row, up to an hour.
	HandshakeRetry time.Duration `env:"YAHOO_HANDSHAKE_RETRY" envDefault:"2m"`
	// Conns sizes the connection pool: at most Conns connections per host, all kept idle between
	// requests. The data-collector sets it to COLLECTOR_CONCURRENCY; 0 keeps 16 idle and no cap. It
	// also bounds the chart fallbacks of Quotes in flight (0: defaultFallbacks).
	Conns int `env:"-"`
}

func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = DefaultBreakerFailures
	}
	if c.BreakerOpenTimeout == 0 {
		c.BreakerOpenTimeout = DefaultBreakerOpenTimeout
	}
	if c.BreakerHalfOpenRequests == 0 {
		c.BreakerHalfOpenRequests = DefaultBreakerHalfOpenRequests
	}
	if c.CookieURL == "" {
		c.CookieURL = DefaultCookieURL
		if strings.TrimSuffix(c.BaseURL, "/") != DefaultBaseURL {
			c.CookieURL = strings.TrimSuffix(c.BaseURL, "/") + "/"
		}
	}
	if c.CrumbURL == "" {
		c.CrumbURL = strings.TrimSuffix(c.BaseURL, "/") + CrumbPath
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.RateBurst == 0 {
		c.RateBurst = DefaultRateBurst
	}
	if c.ThrottleHold == 0 {
		c.ThrottleHold = DefaultThrottleHold
	}
	if c.HandshakeRetry == 0 {
		c.HandshakeRetry = DefaultHandshakeRetry
	}
	return c
}

func (c Config) validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("YAHOO_FINANCE_URL: %q is not an http(s) URL", c.BaseURL)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return fmt.Errorf("YAHOO_FINANCE_URL: %q must have no path or query", c.BaseURL)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("YAHOO_TIMEOUT: %s must be positive", c.Timeout)
	}
	if c.BreakerOpenTimeout < 0 {
		return fmt.Errorf("YAHOO_BREAKER_OPEN_TIMEOUT: %s must be positive", c.BreakerOpenTimeout)
	}
	for _, u := range []struct{ name, v string }{{"YAHOO_COOKIE_URL", c.CookieURL}, {"YAHOO_CRUMB_URL", c.CrumbURL}} {
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", u.name, u.v)
		}
	}
	if c.BatchSize < 1 {
		return fmt.Errorf("YAHOO_BATCH_SIZE: %d must be at least 1", c.BatchSize)
	}
	if c.RateLimit <= 0 || math.IsInf(c.RateLimit, 0) || math.IsNaN(c.RateLimit) {
		return fmt.Errorf("YAHOO_RATE_LIMIT: %v must be a positive number of requests/s", c.RateLimit)
	}
	if c.RateBurst < 1 {
		return fmt.Errorf("YAHOO_RATE_BURST: %d must be at least 1", c.RateBurst)
	}
	if c.ThrottleHold < 0 {
		return fmt.Errorf("YAHOO_THROTTLE_HOLD: %s must be positive", c.ThrottleHold)
	}
	if c.HandshakeRetry < 0 {
		return fmt.Errorf("YAHOO_HANDSHAKE_RETRY: %s must be positive", c.HandshakeRetry)
	}
	if c.Conns < 0 {
		return fmt.Errorf("yahoo Conns: %d must not be negative", c.Conns)
	}
	return nil
}

// Client fetches quotes from Yahoo Finance.
type Client struct {
	base      string
	timeout   time.Duration
	userAgent string
	batchSize int
	logger    *slog.Logger
	http      *http.Client
	// noRedirect is http without following redirects: the cookie request reads the first answer's
	// Set-Cookie (and sees a redirect to the EU consent flow as such).
	noRedirect *http.Client
	// breaker guards quotes and histories alike: one view of Yahoo's health.
	breaker *gobreaker.CircuitBreaker[struct{}]
	budgets *budgets
	session *session
	// fallback bounds the chart requests Quotes makes in place of batches, over all its calls.
	fallback *semaphore.Weighted
	m        metrics
}

// metrics are the Client's Prometheus collectors beyond the breaker's.
type metrics struct {
	batches    *prometheus.CounterVec
	fallbacks  *prometheus.CounterVec
	handshakes *prometheus.CounterVec
	throttled  *prometheus.CounterVec
	rate       *prometheus.GaugeVec
}

// New builds a Client. It registers its collectors with reg (nil registers nothing), all labelled
// source="yahoo": stockalert_quote_breaker_state (0 closed, 1 half-open, 2 open),
// stockalert_quote_breaker_transitions_total{from,to}, stockalert_quote_batches_total{outcome}
// (ok, fallback), stockalert_quote_fallbacks_total{reason} (symbols priced by a chart request instead:
// batch_failed, missing), stockalert_quote_handshakes_total{outcome} (ok, failed),
// stockalert_quote_throttled_total{host} (429 or Retry-After answers) and
// stockalert_quote_rate_limit{host} (the host's current budget, requests/s). A nil logger logs
// nowhere.
//
// It returns an error naming the variable when cfg is invalid, or the registration error when reg
// already holds collectors of those names and labels.
func New(cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("yahoo config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	source := prometheus.Labels{"source": sourceLabel}
	state := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "stockalert_quote_breaker_state",
		Help:        "State of the quote source's circuit breaker: 0 closed, 1 half-open, 2 open.",
		ConstLabels: source,
	})
	transitions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name:        "stockalert_quote_breaker_transitions_total",
		Help:        "State changes of the quote source's circuit breaker.",
		ConstLabels: source,
	}, []string{"from", "to"})
	m := metrics{
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockalert_quote_batches_total", ConstLabels: source,
			Help: "Batch quote requests by outcome: ok, or fallback (the batch or its handshake failed; its symbols went to chart requests).",
		}, []string{"outcome"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockalert_quote_fallbacks_total", ConstLabels: source,
			Help: "Symbols of a batch priced by a chart request instead, by reason: batch_failed, missing (not in the batch's answer).",
		}, []string{"reason"}),
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockalert_quote_handshakes_total", ConstLabels: source,
			Help: "Cookie and crumb handshakes by outcome: ok, failed.",
		}, []string{"outcome"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockalert_quote_throttled_total", ConstLabels: source,
			Help: "Answers that asked us to slow down (429, or Retry-After), by host.",
		}, []string{"host"}),
		rate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stockalert_quote_rate_limit", ConstLabels: source,
			Help: "Current request budget of each upstream host, requests/s (lowered after a 429).",
		}, []string{"host"}),
	}
	if reg != nil {
		var done []prometheus.Collector
		for _, col := range []prometheus.Collector{state, transitions, m.batches, m.fallbacks, m.handshakes, m.throttled, m.rate} {
			if err := reg.Register(col); err != nil {
				for _, d := range done {
					reg.Unregister(d)
				}
				return nil, fmt.Errorf("register yahoo metrics: %w", err)
			}
			done = append(done, col)
		}
	}

	failures := cfg.BreakerFailures
	settings := gobreaker.Settings{
		Name:        sourceLabel,
		MaxRequests: cfg.BreakerHalfOpenRequests,
		Timeout:     cfg.BreakerOpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		// Called with the breaker's lock held: it must not call back into the breaker.
		OnStateChange: func(name string, from, to gobreaker.State) {
			state.Set(float64(to))
			transitions.WithLabelValues(from.String(), to.String()).Inc()
			level := slog.LevelInfo
			if to == gobreaker.StateOpen {
				level = slog.LevelWarn
			}
			logger.Log(context.Background(), level, "quote source breaker state changed",
				"source", name, "from", from.String(), "to", to.String())
		},
		IsSuccessful: func(err error) bool { return err == nil },
		// Only the service's own failures count: everything else is neither success nor failure.
		IsExcluded: func(err error) bool { return err != nil && !errors.Is(err, ErrUnavailable) },
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = defaultMaxIdlePerHost
	if cfg.Conns > 0 {
		transport.MaxIdleConnsPerHost = cfg.Conns
		transport.MaxConnsPerHost = cfg.Conns
		transport.MaxIdleConns = max(transport.MaxIdleConns, 2*cfg.Conns)
	}
	transport.IdleConnTimeout = defaultIdleConnsTimeout

	return &Client{
		base:       strings.TrimSuffix(cfg.BaseURL, "/"),
		timeout:    cfg.Timeout,
		userAgent:  cfg.UserAgent,
		batchSize:  cfg.BatchSize,
		logger:     logger,
		http:       &http.Client{Transport: transport},
		noRedirect: &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		breaker:    gobreaker.NewCircuitBreaker[struct{}](settings),
		budgets: newBudgets(cfg.RateLimit, cfg.RateBurst, cfg.ThrottleHold,
			func(host string, r float64) { m.rate.WithLabelValues(host).Set(r) }),
		session:  newSession(cfg.CookieURL, cfg.CrumbURL, cfg.HandshakeRetry),
		fallback: semaphore.NewWeighted(int64(cmp.Or(cfg.Conns, defaultFallbacks))),
		m:        m,
	}, nil
}

// BreakerState returns the breaker's state: "closed", "half-open" or "open".
func (c *Client) BreakerState() string { return c.breaker.State().String() }

// Quote returns the latest regular-market price of ticker (meta.regularMarketPrice at
// meta.regularMarketTime, in meta.currency as quoted), validated, with the previous regular session's
// close in Quote.PreviousClose (meta.chartPreviousClose, else meta.previousClose; 0 when Yahoo gave
// neither, which is not an error).
//
// Errors: a *stockalert.ValidationError for a malformed ticker (nothing is sent); an error wrapping
// stockalert.ErrNotFound when Yahoo does not know the symbol; ErrUnavailable when the service fails or
// the breaker is open (then also ErrCircuitOpen); ErrInvalidResponse for an unusable answer; ctx's
// error when ctx ends first.
func (c *Client) Quote(ctx context.Context, ticker stockalert.Ticker) (stockalert.Quote, error) {
	t, err := stockalert.ParseTicker(string(ticker))
	if err != nil {
		return stockalert.Quote{}, fmt.Errorf("yahoo quote: %w", err)
	}
	var q stockalert.Quote
	err = c.guarded(func() error {
		doc, err := c.fetch(ctx, t, chartQuery)
		if err != nil {
			return err
		}
		q, err = parseChart(t, doc)
		return err
	})
	if err != nil {
		return stockalert.Quote{}, fmt.Errorf("yahoo quote %s: %w", t, err)
	}
	return q, nil
}

// guarded runs call through the breaker; an open (or busy half-open) breaker is an error wrapping
// ErrUnavailable and ErrCircuitOpen.
func (c *Client) guarded(call func() error) error {
	_, err := c.breaker.Execute(func() (struct{}, error) { return struct{}{}, call() })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return fmt.Errorf("%w: %w", ErrUnavailable, ErrCircuitOpen)
	}
	return err
}

// chartResponse is the part of the chart API's answer we read. Pointers tell missing from zero.
type chartResponse struct {
	Chart *struct {
		Result []struct {
			Meta *struct {
				Symbol             string        `json:"symbol"`
				Currency           *string       `json:"currency"`
				RegularMarketPrice *float64      `json:"regularMarketPrice"`
				RegularMarketTime  *int64        `json:"regularMarketTime"`
				ChartPreviousClose lenientNumber `json:"chartPreviousClose"`
				PreviousClose      lenientNumber `json:"previousClose"`
			} `json:"meta"`
			Timestamp  []int64 `json:"timestamp"`
			Indicators *struct {
				Quote []struct {
					Close []*float64 `json:"close"`
				} `json:"quote"`
			} `json:"indicators"`
		} `json:"result"`
		Error *struct {
			Code        string `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
	} `json:"chart"`
}

func (c *Client) fetch(ctx context.Context, t stockalert.Ticker, query url.Values) (chartResponse, error) {
	u := c.base + chartPathPrefix + escapeSegment(string(t)) + "?" + query.Encode()
	resp, err := c.get(ctx, c.http, u, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return chartResponse{}, err
	}
	if err := serviceFailure(resp); err != nil {
		return chartResponse{}, err
	}

	var doc chartResponse
	decodeErr := json.Unmarshal(resp.body, &doc)
	if decodeErr == nil && doc.Chart != nil && doc.Chart.Error != nil {
		e := doc.Chart.Error
		if resp.status == http.StatusNotFound || strings.EqualFold(e.Code, "Not Found") {
			return chartResponse{}, fmt.Errorf("symbol %s: %w (%s)", t, stockalert.ErrNotFound, e.Description)
		}
		return chartResponse{}, fmt.Errorf("%w: status %d: %s: %s", ErrInvalidResponse, resp.status, e.Code, e.Description)
	}
	if resp.status != http.StatusOK {
		return chartResponse{}, fmt.Errorf("%w: status %d", ErrInvalidResponse, resp.status)
	}
	if decodeErr != nil {
		return chartResponse{}, fmt.Errorf("%w: decode chart: %w", ErrInvalidResponse, decodeErr)
	}
	return doc, nil
}

// serviceFailure is the error wrapping ErrUnavailable for an answer that says the service failed or
// refuses us (429, 5xx, 401, 403), nil for any other.
func serviceFailure(resp response) error {
	switch s := resp.status; {
	case s == http.StatusTooManyRequests, s >= 500, s == http.StatusUnauthorized, s == http.StatusForbidden:
		return fmt.Errorf("%w: status %d %s", ErrUnavailable, s, http.StatusText(s))
	}
	return nil
}

// response is an answer read in full (at most maxBody bytes).
type response struct {
	status int
	header http.Header
	body   []byte
}

// get sends GET u with the User-Agent and header through hc, within the request budget of u's host,
// each attempt bounded by the client's timeout. A 429, or an error answer carrying Retry-After, slows
// the host down (budgets.throttled); a 429 is then retried, after its Retry-After, up to
// maxThrottleRetries times while the pause fits within the timeout, and returned as it is after that.
//
// Errors: as transportError classifies a request that got no answer; ErrInvalidResponse for a body
// over maxBody; the budget's (ctx's error, or ErrUnavailable when a pause outlasts ctx's deadline).
func (c *Client) get(ctx context.Context, hc *http.Client, u string, header http.Header) (response, error) {
	host := hostOf(u)
	for attempt := 0; ; attempt++ {
		if err := c.budgets.wait(ctx, host); err != nil {
			return response{}, err
		}
		resp, err := c.once(ctx, hc, u, header)
		if err != nil {
			return response{}, err
		}
		ra, hasRA := retryAfter(resp.header, time.Now())
		if resp.status != http.StatusTooManyRequests && (!hasRA || resp.status < 400) {
			return resp, nil
		}
		c.m.throttled.WithLabelValues(host).Inc()
		pause := c.budgets.throttled(host, ra)
		c.logger.Log(ctx, slog.LevelWarn, "yahoo asked us to slow down: lowered the request rate",
			"host", host, "status", resp.status, "retry_after", ra.String(), "rate", c.budgets.rate(host), "attempt", attempt+1)
		if resp.status != http.StatusTooManyRequests || attempt >= maxThrottleRetries || pause > c.timeout {
			return resp, nil
		}
	}
}

// once makes one request and reads its answer.
func (c *Client) once(ctx context.Context, hc *http.Client, u string, header http.Header) (response, error) {
	reqCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u, nil)
	if err != nil {
		return response{}, fmt.Errorf("build request: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", c.userAgent)

	resp, err := hc.Do(req)
	if err != nil {
		return response{}, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return response{}, c.transportError(ctx, err)
	}
	if len(body) > maxBody {
		return response{}, fmt.Errorf("%w: body longer than %d bytes", ErrInvalidResponse, maxBody)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// hostOf is u's host (with its port), the key of its request budget.
func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Host
}

func parseChart(t stockalert.Ticker, doc chartResponse) (stockalert.Quote, error) {
	if doc.Chart == nil {
		return stockalert.Quote{}, fmt.Errorf("%w: no chart object", ErrInvalidResponse)
	}
	if len(doc.Chart.Result) == 0 {
		return stockalert.Quote{}, fmt.Errorf("%w: chart.result is empty", ErrInvalidResponse)
	}
	m := doc.Chart.Result[0].Meta
	switch {
	case m == nil:
		return stockalert.Quote{}, fmt.Errorf("%w: chart.result[0].meta is missing", ErrInvalidResponse)
	case m.RegularMarketPrice == nil:
		return stockalert.Quote{}, fmt.Errorf("%w: meta.regularMarketPrice is missing", ErrInvalidResponse)
	case m.RegularMarketTime == nil || *m.RegularMarketTime <= 0:
		return stockalert.Quote{}, fmt.Errorf("%w: meta.regularMarketTime is missing", ErrInvalidResponse)
	case m.Symbol != "" && !strings.EqualFold(m.Symbol, string(t)):
		return stockalert.Quote{}, fmt.Errorf("%w: asked for %s, got meta.symbol %q", ErrInvalidResponse, t, m.Symbol)
	}
	q := stockalert.Quote{
		Ticker: t,
		Price:  *m.RegularMarketPrice,
		Time:   time.Unix(*m.RegularMarketTime, 0).UTC(),
	}
	q.PreviousClose = previousClose(float64(m.ChartPreviousClose), float64(m.PreviousClose))
	if m.Currency != nil {
		// As quoted: meta.currency is case-sensitive (GBp is pence, GBP pounds).
		q.Currency = *m.Currency
	}
	if err := q.Validate(); err != nil {
		return stockalert.Quote{}, fmt.Errorf("%w: %w", ErrInvalidResponse, err)
	}
	return q, nil
}

// previousClose picks the quote's previous close from the chart meta: chartPreviousClose, the close
// before the chart's range (for range=1d the previous regular session's close), else previousClose,
// which Yahoo sends only sometimes (and then equal to it): yahoo-finance2's ChartMeta
// (src/modules/chart.ts) types chartPreviousClose as always present and previousClose as optional.
// A value that is missing, null, not a number, not finite or not positive counts as absent; with
// neither it returns 0, and the day change is unknown.
func previousClose(chartPreviousClose, previousClose float64) float64 {
	for _, v := range []float64{chartPreviousClose, previousClose} {
		if v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
			return v
		}
	}
	return 0
}

// lenientNumber is an optional JSON number: anything else (null, a string, an object) decodes as 0
// instead of failing the whole chart, so that a malformed previous close only makes the day change
// unknown.
type lenientNumber float64

func (n *lenientNumber) UnmarshalJSON(b []byte) error {
	var v float64
	if json.Unmarshal(b, &v) != nil {
		v = 0
	}
	*n = lenientNumber(v)
	return nil
}

// chartQuery is the query of every chart request: one day of one-minute bars.
var chartQuery = url.Values{"range": {"1d"}, "interval": {"1m"}}

// escapeSegment percent-encodes every byte of s but RFC 3986's unreserved characters (ALPHA, DIGIT,
// "-", ".", "_", "~"), as JavaScript's encodeURIComponent does for Yahoo clients such as
// yahoo-finance2: M&M.NS → M%26M.NS, ^GSPC → %5EGSPC, EURUSD=X → EURUSD%3DX. url.PathEscape would
// leave & and = as they are (legal in a path, RFC 3986 sub-delims), which some servers and proxies
// read as separators; encoding them leaves nothing in a symbol that could change the request.
func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// transportError classifies a failure to get an answer. If the caller's ctx ended, that is the
// caller's doing, not the service's: the error wraps ctx's error only and the breaker ignores it.
// Otherwise (our own timeout, a refused or reset connection) the service is unavailable.
func (c *Client) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("request abandoned: %w", context.Cause(ctx))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is already in our wrapping
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: no answer within %s", ErrUnavailable, c.timeout)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
