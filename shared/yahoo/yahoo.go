// Package yahoo is the quote source over Yahoo Finance's chart API
// (GET /v8/finance/chart/{SYMBOL}?range=1d&interval=1m).
//
// Every request goes through a circuit breaker (github.com/sony/gobreaker/v2). Only failures of the
// service count against it: 5xx, 429, 401/403 (Yahoo refusing us), timeouts and connection errors. An
// unknown symbol, a malformed payload or a caller that gives up do not. While the breaker is open, Quote
// fails fast with an error wrapping ErrCircuitOpen (and ErrUnavailable). State changes are logged and
// exported as Prometheus metrics.
//
// A Client is safe for concurrent use. Bounding how many tickers are fetched at once is the caller's
// business.
package yahoo

import (
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
)

const (
	maxBody                 = 4 << 20 // a 1d/1m chart is ~60 KB
	sourceLabel             = "yahoo"
	chartPathPrefix         = "/v8/finance/chart/"
	defaultMaxIdlePerHost   = 16
	defaultIdleConnsTimeout = 90 * time.Second
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
	return nil
}

// Client fetches quotes from Yahoo Finance.
type Client struct {
	base      string
	timeout   time.Duration
	userAgent string
	http      *http.Client
	// breaker guards quotes and histories alike: one view of Yahoo's health.
	breaker *gobreaker.CircuitBreaker[struct{}]
}

// New builds a Client. It registers two collectors with reg (nil registers nothing):
// stockalert_quote_breaker_state{source="yahoo"} (0 closed, 1 half-open, 2 open) and
// stockalert_quote_breaker_transitions_total{source="yahoo",from,to}. A nil logger logs nowhere.
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

	state := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "stockalert_quote_breaker_state",
		Help:        "State of the quote source's circuit breaker: 0 closed, 1 half-open, 2 open.",
		ConstLabels: prometheus.Labels{"source": sourceLabel},
	})
	transitions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name:        "stockalert_quote_breaker_transitions_total",
		Help:        "State changes of the quote source's circuit breaker.",
		ConstLabels: prometheus.Labels{"source": sourceLabel},
	}, []string{"from", "to"})
	if reg != nil {
		if err := reg.Register(state); err != nil {
			return nil, fmt.Errorf("register yahoo breaker state gauge: %w", err)
		}
		if err := reg.Register(transitions); err != nil {
			reg.Unregister(state)
			return nil, fmt.Errorf("register yahoo breaker transitions counter: %w", err)
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
	transport.IdleConnTimeout = defaultIdleConnsTimeout

	return &Client{
		base:      strings.TrimSuffix(cfg.BaseURL, "/"),
		timeout:   cfg.Timeout,
		userAgent: cfg.UserAgent,
		http:      &http.Client{Transport: transport},
		breaker:   gobreaker.NewCircuitBreaker[struct{}](settings),
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
	reqCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	u := c.base + chartPathPrefix + escapeSegment(string(t)) + "?" + query.Encode()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u, nil)
	if err != nil {
		return chartResponse{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")

	resp, err := c.http.Do(req)
	if err != nil {
		return chartResponse{}, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return chartResponse{}, c.transportError(ctx, err)
	}
	if len(body) > maxBody {
		return chartResponse{}, fmt.Errorf("%w: body longer than %d bytes", ErrInvalidResponse, maxBody)
	}

	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500,
		resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		return chartResponse{}, fmt.Errorf("%w: status %s", ErrUnavailable, resp.Status)
	}

	var doc chartResponse
	decodeErr := json.Unmarshal(body, &doc)
	if decodeErr == nil && doc.Chart != nil && doc.Chart.Error != nil {
		e := doc.Chart.Error
		if resp.StatusCode == http.StatusNotFound || strings.EqualFold(e.Code, "Not Found") {
			return chartResponse{}, fmt.Errorf("symbol %s: %w (%s)", t, stockalert.ErrNotFound, e.Description)
		}
		return chartResponse{}, fmt.Errorf("%w: status %s: %s: %s", ErrInvalidResponse, resp.Status, e.Code, e.Description)
	}
	if resp.StatusCode != http.StatusOK {
		return chartResponse{}, fmt.Errorf("%w: status %s", ErrInvalidResponse, resp.Status)
	}
	if decodeErr != nil {
		return chartResponse{}, fmt.Errorf("%w: decode chart: %w", ErrInvalidResponse, decodeErr)
	}
	return doc, nil
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
