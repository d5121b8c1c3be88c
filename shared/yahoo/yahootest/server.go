// Package yahootest is a fake Yahoo Finance for tests: an httptest server on 127.0.0.1 that speaks
// both wire formats the yahoo client uses, in Yahoo's shapes:
//
//   - the chart API, GET /v8/finance/chart/{SYMBOL} (meta, timestamp and indicators; 404 with Yahoo's
//     error body for symbols it was not told about);
//   - the v7 quote API, GET /v7/finance/quote?symbols=A,B,…&crumb=… (quoteResponse.result[], unknown
//     symbols skipped), behind the handshake: GET / answers 404 with a Set-Cookie (as fc.yahoo.com
//     does), GET /v1/test/getcrumb answers that cookie's crumb as plain text, and the quote API answers
//     401 {"finance":{"result":null,"error":{"code":"Unauthorized","description":"Invalid Crumb"}}}
//     without a valid cookie and its crumb.
//
// Failures are injected on demand: any status, no answer at all, 429 with Retry-After, expired cookies,
// refused crumbs, a symbol left out of quote answers, latency. It counts requests per endpoint and per
// symbol, and new connections. It is safe for concurrent use.
package yahootest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Endpoint names one of the fake's endpoints.
type Endpoint string

// The fake's endpoints.
const (
	// EndpointCookie is GET / (fc.yahoo.com's role): 404 with the session cookie.
	EndpointCookie Endpoint = "cookie"
	// EndpointCrumb is GET /v1/test/getcrumb.
	EndpointCrumb Endpoint = "crumb"
	// EndpointQuote is GET /v7/finance/quote.
	EndpointQuote Endpoint = "quote"
	// EndpointChart is GET /v8/finance/chart/{SYMBOL}.
	EndpointChart Endpoint = "chart"
)

// cookieName is the session cookie the fake sets (Yahoo's is A3).
const cookieName = "A3"

// Server is a running fake. Build it with NewServer.
type Server struct {
	srv     *httptest.Server
	closing chan struct{}
	once    sync.Once

	mu         sync.Mutex
	quotes     map[string]quote
	histories  map[historyKey]history
	prevClose  map[string]prevCloseFields
	raw        map[string]rawAnswer
	leftOut    map[string]bool
	faults     []*fault
	requests   map[string]int
	total      int
	byEndpoint map[Endpoint]int
	newConns   int
	latency    time.Duration
	userAgents []string
	uris       []string
	log        []Request
	// cookies maps each cookie value issued to its crumb ("" until asked) and whether it still holds.
	cookies map[string]*session
}

type session struct {
	crumb   string
	expired bool
}

// Request is one request the fake answered (or left hanging).
type Request struct {
	Endpoint Endpoint
	// URI is the request-target as sent.
	URI string
	// At is when the request arrived, Status what it was answered (0: no answer).
	At     time.Time
	Status int
}

type historyKey struct{ symbol, rng string }

type history struct {
	currency string
	bars     []Bar
}

// Bar is one bar of a history: its time and close (nil for a bar Yahoo sends with a null close).
type Bar struct {
	Time  time.Time
	Close *float64
}

type quote struct {
	price    float64
	currency string
	time     time.Time
}

// prevCloseFields is what meta carries for a symbol's previous close; 0 leaves a field out.
type prevCloseFields struct {
	chart, meta float64
}

type rawAnswer struct {
	status int
	body   string
}

type fault struct {
	symbol     string        // "" matches every request
	endpoint   Endpoint      // "" matches every endpoint
	status     int           // 0: hang until the client gives up
	retryAfter time.Duration // < 0: no Retry-After header
	left       int
}

var validIntervals = []string{"1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "4h", "1d", "5d", "1wk", "1mo", "3mo"}
var validRanges = []string{"1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"}

// NewServer starts a fake with no symbols and closes it when the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		closing:    make(chan struct{}),
		quotes:     map[string]quote{},
		histories:  map[historyKey]history{},
		prevClose:  map[string]prevCloseFields{},
		raw:        map[string]rawAnswer{},
		leftOut:    map[string]bool{},
		requests:   map[string]int{},
		byEndpoint: map[Endpoint]int{},
		cookies:    map[string]*session{},
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.newConns++
			s.mu.Unlock()
		}
	}
	s.srv.Start()
	tb.Cleanup(s.Close)
	return s
}

// URL is the base URL to configure the client with (yahoo.Config.BaseURL). The cookie endpoint is
// URL()+"/", the crumb endpoint URL()+"/v1/test/getcrumb": what the client derives from BaseURL.
func (s *Server) URL() string { return s.srv.URL }

// Close releases hanging requests and stops the server. It is safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.srv.Close()
	})
}

// SetQuote makes symbol known (case-insensitively) with its regular-market price, currency and time.
// It replaces an earlier quote or raw answer for the symbol.
func (s *Server) SetQuote(symbol string, price float64, currency string, t time.Time) {
	symbol = strings.ToUpper(symbol)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.raw, symbol)
	s.quotes[symbol] = quote{price: price, currency: currency, time: t}
}

// SetHistory makes symbol known and answers requests for it with range rng (e.g. "5d") with bars:
// their times in `timestamp`, their closes in `indicators.quote[0].close` (nil as null), the meta in
// currency, priced at the last bar's close. Other ranges of the symbol answer as before.
func (s *Server) SetHistory(symbol, rng, currency string, bars []Bar) {
	symbol = strings.ToUpper(symbol)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.histories[historyKey{symbol, rng}] = history{currency: currency, bars: slices.Clone(bars)}
}

// SetPreviousClose sets the previous close that symbol's chart meta carries: chartPreviousClose and
// previousClose, each left out of the answer when 0 (Yahoo sends chartPreviousClose with every chart
// and previousClose only sometimes). Without it the meta carries both, at 99.5 % of the price. The
// quote API's regularMarketPreviousClose is chartPreviousClose (left out when 0). It lasts across
// SetQuote calls for the symbol.
func (s *Server) SetPreviousClose(symbol string, chartPreviousClose, previousClose float64) {
	symbol = strings.ToUpper(symbol)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prevClose[symbol] = prevCloseFields{chart: chartPreviousClose, meta: previousClose}
}

// SetRaw makes every chart request for symbol answer status with body as JSON, for malformed payloads.
// The quote API leaves such a symbol out of its answers.
func (s *Server) SetRaw(symbol string, status int, body string) {
	symbol = strings.ToUpper(symbol)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw[symbol] = rawAnswer{status: status, body: body}
}

// LeaveOutOfQuotes makes the quote API leave symbol out of its answers, as it does for symbols it does
// not know, while the chart API still answers for it.
func (s *Server) LeaveOutOfQuotes(symbol string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leftOut[strings.ToUpper(symbol)] = true
}

// Fail makes the next n requests naming symbol (chart or quote requests; "" for any request of any
// endpoint, the handshake's included) answer status with a body like Yahoo's edge sends (plain text
// for 429, HTML for 5xx). Injected failures are used in the order they were added, before any answer.
func (s *Server) Fail(symbol string, status int, n int) {
	s.addFault(&fault{symbol: strings.ToUpper(symbol), status: status, retryAfter: -1, left: n})
}

// FailEndpoint makes the next n requests to endpoint answer status (a cookie request so failed sets no
// cookie).
func (s *Server) FailEndpoint(e Endpoint, status int, n int) {
	s.addFault(&fault{endpoint: e, status: status, retryAfter: -1, left: n})
}

// Throttle makes the next n requests (any endpoint) answer 429 Too Many Requests with a Retry-After of
// retryAfter (whole seconds, rounded up; 0 sends "Retry-After: 0").
func (s *Server) Throttle(n int, retryAfter time.Duration) {
	s.addFault(&fault{status: http.StatusTooManyRequests, retryAfter: max(retryAfter, 0), left: n})
}

// Hang makes the next n requests for symbol ("" for any) get no answer until the client gives up or
// the server closes: a timeout, seen from the client.
func (s *Server) Hang(symbol string, n int) {
	s.addFault(&fault{symbol: strings.ToUpper(symbol), retryAfter: -1, left: n})
}

func (s *Server) addFault(f *fault) {
	if f.left <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// ExpireCookies makes every cookie issued so far expired: the crumb endpoint and the quote API answer
// 401 to it, as Yahoo does once a session ends; a new GET / gives a new one.
func (s *Server) ExpireCookies() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cookies {
		c.expired = true
	}
}

// InvalidateCrumbs makes the quote API refuse every crumb issued so far with 401 "Invalid Crumb",
// the cookies staying valid: the next getcrumb with such a cookie answers a new crumb.
func (s *Server) InvalidateCrumbs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cookies {
		c.crumb = ""
	}
}

// SetLatency delays every answer by d (0: none), as a distant upstream would.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Requests returns how many chart or quote requests named symbol (case-insensitively); for "" the
// sum over all symbols (a quote request for n symbols counts n; handshake requests count nothing).
func (s *Server) Requests(symbol string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if symbol == "" {
		return s.total
	}
	return s.requests[strings.ToUpper(symbol)]
}

// HTTPRequests returns how many HTTP requests reached endpoint ("" for all of them, any path).
func (s *Server) HTTPRequests(e Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e == "" {
		n := 0
		for _, v := range s.byEndpoint {
			n += v
		}
		return n
	}
	return s.byEndpoint[e]
}

// NewConns returns how many TCP connections clients have opened to the fake.
func (s *Server) NewConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newConns
}

// Log returns every request to a known endpoint, in order of arrival.
func (s *Server) Log() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// RequestURIs returns the request-target of every chart request, as sent on the wire (path still
// percent-encoded, then the query), in order of arrival.
func (s *Server) RequestURIs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.uris)
}

// UserAgents returns the distinct User-Agent headers seen, in order of first appearance.
func (s *Server) UserAgents() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.userAgents)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	var e Endpoint
	var symbols []string
	switch path := r.URL.Path; {
	case path == "/":
		e = EndpointCookie
	case path == "/v1/test/getcrumb":
		e = EndpointCrumb
	case path == "/v7/finance/quote":
		e = EndpointQuote
		for _, sym := range strings.Split(r.URL.Query().Get("symbols"), ",") {
			if sym = strings.ToUpper(strings.TrimSpace(sym)); sym != "" {
				symbols = append(symbols, sym)
			}
		}
	case strings.HasPrefix(path, "/v8/finance/chart/"):
		sym := strings.TrimPrefix(path, "/v8/finance/chart/")
		if sym == "" || strings.Contains(sym, "/") {
			http.Error(w, "Not Found", http.StatusNotFound)
			return
		}
		e, symbols = EndpointChart, []string{strings.ToUpper(sym)}
	default:
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}

	s.mu.Lock()
	s.byEndpoint[e]++
	for _, sym := range symbols {
		s.total++
		s.requests[sym]++
	}
	if e == EndpointChart {
		s.uris = append(s.uris, r.RequestURI)
	}
	if ua := r.UserAgent(); !slices.Contains(s.userAgents, ua) {
		s.userAgents = append(s.userAgents, ua)
	}
	entry := len(s.log)
	s.log = append(s.log, Request{Endpoint: e, URI: r.RequestURI, At: time.Now()})
	f := s.takeFault(e, symbols)
	latency := s.latency
	s.mu.Unlock()

	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		s.mu.Lock()
		s.log[entry].Status = rec.status
		s.mu.Unlock()
	}()
	if f != nil && f.status == 0 {
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.closing:
			t.Stop()
			return
		case <-t.C:
		}
	}
	if f != nil {
		writeFailure(rec, f.status, f.retryAfter)
		return
	}
	switch e {
	case EndpointCookie:
		s.serveCookie(rec)
	case EndpointCrumb:
		s.serveCrumb(rec, r)
	case EndpointQuote:
		s.serveQuote(rec, r, symbols)
	default:
		s.serveChart(rec, r, symbols[0])
	}
}

// statusRecorder remembers the status written, for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// serveCookie answers as fc.yahoo.com does: a 404 page that sets the session cookie.
func (s *Server) serveCookie(w http.ResponseWriter) {
	value := "d=" + token(24) + "&S=" + token(12)
	s.mu.Lock()
	s.cookies[value] = &session{}
	s.mu.Unlock()
	//nolint:gosec // G124: SameSite=None with Secure and HttpOnly, as Yahoo sets its A3 cookie
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: "/", MaxAge: 31557600,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("<!doctype html><html><head><title>Yahoo</title></head><body>Not Found</body></html>\n"))
}

// session returns the live session of r's cookie, nil without one. s.mu must be held.
func (s *Server) session(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	sess := s.cookies[c.Value]
	if sess == nil || sess.expired {
		return nil
	}
	return sess
}

// serveCrumb answers the crumb of r's cookie as plain text, 401 without a live cookie.
func (s *Server) serveCrumb(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sess := s.session(r)
	if sess != nil && sess.crumb == "" {
		sess.crumb = token(8) + "/" + token(2)
	}
	var crumb string
	if sess != nil {
		crumb = sess.crumb
	}
	s.mu.Unlock()
	if sess == nil {
		writeFinanceError(w, http.StatusUnauthorized, "Unauthorized", "Invalid Cookie")
		return
	}
	w.Header().Set("Content-Type", "text/plain;charset=utf-8")
	_, _ = w.Write([]byte(crumb))
}

// serveQuote answers the v7 quote API: 401 "Invalid Crumb" unless r carries a live cookie and its
// crumb, else the known symbols' quotes (unknown ones skipped).
func (s *Server) serveQuote(w http.ResponseWriter, r *http.Request, symbols []string) {
	s.mu.Lock()
	sess := s.session(r)
	ok := sess != nil && sess.crumb != "" && r.URL.Query().Get("crumb") == sess.crumb
	var results []QuoteResult
	for _, sym := range symbols {
		q, known := s.quotes[sym]
		if _, isRaw := s.raw[sym]; !known || isRaw || s.leftOut[sym] {
			continue
		}
		res := Quote(sym, q.price, q.currency, q.time)
		if pc, set := s.prevClose[sym]; set {
			res.RegularMarketPreviousClose = optional(pc.chart)
		}
		results = append(results, res)
	}
	s.mu.Unlock()
	if !ok {
		writeFinanceError(w, http.StatusUnauthorized, "Unauthorized", "Invalid Crumb")
		return
	}
	var doc QuoteResponse
	doc.QuoteResponse.Result = results
	if doc.QuoteResponse.Result == nil {
		doc.QuoteResponse.Result = []QuoteResult{}
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_ = json.NewEncoder(w).Encode(doc)
}

func (s *Server) serveChart(w http.ResponseWriter, r *http.Request, symbol string) {
	s.mu.Lock()
	raw, isRaw := s.raw[symbol]
	q, known := s.quotes[symbol]
	pc, pcSet := s.prevClose[symbol]
	hist, isHist := s.histories[historyKey{symbol, r.URL.Query().Get("range")}]
	s.mu.Unlock()

	if iv := r.URL.Query().Get("interval"); iv != "" && !slices.Contains(validIntervals, iv) {
		writeChartError(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf(
			"Invalid input - interval=%s is not supported. Valid intervals: [%s]", iv, strings.Join(validIntervals, ", ")))
		return
	}
	if rg := r.URL.Query().Get("range"); rg != "" && !slices.Contains(validRanges, rg) {
		writeChartError(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf(
			"Invalid input - range=%s is not supported. Valid ranges: [%s]", rg, strings.Join(validRanges, ", ")))
		return
	}

	if iv, rg := r.URL.Query().Get("interval"), r.URL.Query().Get("range"); intraday(iv) && !slices.Contains([]string{"", "1d", "5d", "1mo"}, rg) {
		writeChartError(w, http.StatusUnprocessableEntity, "Unprocessable Entity",
			fmt.Sprintf("%s data not available for range=%s. The requested range must be within the last 60 days.", iv, rg))
		return
	}

	switch {
	case isRaw:
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(raw.status)
		_, _ = w.Write([]byte(raw.body))
	case isHist:
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		_ = json.NewEncoder(w).Encode(historyChart(symbol, r.URL.Query().Get("range"), r.URL.Query().Get("interval"), hist))
	case known:
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		chart := Chart(symbol, q.price, q.currency, q.time)
		if pcSet {
			m := &chart.Chart.Result[0].Meta
			m.ChartPreviousClose, m.PreviousClose = optional(pc.chart), optional(pc.meta)
		}
		_ = json.NewEncoder(w).Encode(chart)
	default:
		writeChartError(w, http.StatusNotFound, "Not Found", "No data found, symbol may be delisted")
	}
}

// takeFault consumes the first injected failure that applies to a request to e naming symbols. s.mu
// must be held.
func (s *Server) takeFault(e Endpoint, symbols []string) *fault {
	for i, f := range s.faults {
		if f.endpoint != "" && f.endpoint != e {
			continue
		}
		if f.symbol != "" && !slices.Contains(symbols, f.symbol) {
			continue
		}
		f.left--
		if f.left == 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		return f
	}
	return nil
}

func writeFailure(w http.ResponseWriter, status int, retryAfter time.Duration) {
	if retryAfter >= 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("Too Many Requests\r\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	text := http.StatusText(status)
	_, _ = fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><h1>%s</h1></body></html>\n", status, text, text)
}

// writeFinanceError writes the {"finance":{"result":null,"error":{…}}} body of Yahoo's 401s.
func writeFinanceError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"finance":{"result":null,"error":{"code":%q,"description":%q}}}`+"\n", code, description)
}

// token is n random URL-safe characters.
func token(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

func writeChartError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	type chartError struct {
		Code        string `json:"code"`
		Description string `json:"description"`
	}
	var doc struct {
		Chart struct {
			Result []ChartResult `json:"result"`
			Error  chartError    `json:"error"`
		} `json:"chart"`
	}
	doc.Chart.Error = chartError{Code: code, Description: description}
	_ = json.NewEncoder(w).Encode(doc)
}

// ChartResponse is the chart API's answer, as Yahoo spells it.
type ChartResponse struct {
	Chart struct {
		Result []ChartResult `json:"result"`
		Error  any           `json:"error"`
	} `json:"chart"`
}

// ChartResult is one symbol's chart.
type ChartResult struct {
	Meta       Meta    `json:"meta"`
	Timestamp  []int64 `json:"timestamp"`
	Indicators struct {
		Quote []Bars `json:"quote"`
	} `json:"indicators"`
}

// Bars are the chart's OHLCV series, one entry per timestamp; Yahoo sends null for missing values.
type Bars struct {
	Open   []*float64 `json:"open"`
	High   []*float64 `json:"high"`
	Low    []*float64 `json:"low"`
	Close  []*float64 `json:"close"`
	Volume []*int64   `json:"volume"`
}

// Meta is the chart's meta object with the fields Yahoo sends for an equity. ChartPreviousClose and
// PreviousClose are pointers because Yahoo may leave them out (previousClose often is).
type Meta struct {
	Currency             string            `json:"currency"`
	Symbol               string            `json:"symbol"`
	ExchangeName         string            `json:"exchangeName"`
	FullExchangeName     string            `json:"fullExchangeName"`
	InstrumentType       string            `json:"instrumentType"`
	FirstTradeDate       int64             `json:"firstTradeDate"`
	RegularMarketTime    int64             `json:"regularMarketTime"`
	HasPrePostMarketData bool              `json:"hasPrePostMarketData"`
	GMTOffset            int               `json:"gmtoffset"`
	Timezone             string            `json:"timezone"`
	ExchangeTimezoneName string            `json:"exchangeTimezoneName"`
	RegularMarketPrice   float64           `json:"regularMarketPrice"`
	FiftyTwoWeekHigh     float64           `json:"fiftyTwoWeekHigh"`
	FiftyTwoWeekLow      float64           `json:"fiftyTwoWeekLow"`
	RegularMarketDayHigh float64           `json:"regularMarketDayHigh"`
	RegularMarketDayLow  float64           `json:"regularMarketDayLow"`
	RegularMarketVolume  int64             `json:"regularMarketVolume"`
	LongName             string            `json:"longName"`
	ShortName            string            `json:"shortName"`
	ChartPreviousClose   *float64          `json:"chartPreviousClose,omitempty"`
	PreviousClose        *float64          `json:"previousClose,omitempty"`
	Scale                int               `json:"scale"`
	PriceHint            int               `json:"priceHint"`
	CurrentTradingPeriod map[string]Period `json:"currentTradingPeriod"`
	TradingPeriods       [][]Period        `json:"tradingPeriods"`
	DataGranularity      string            `json:"dataGranularity"`
	Range                string            `json:"range"`
	ValidRanges          []string          `json:"validRanges"`
}

// Period is a trading session.
type Period struct {
	Timezone  string `json:"timezone"`
	Start     int64  `json:"start"`
	End       int64  `json:"end"`
	GMTOffset int    `json:"gmtoffset"`
}

// Chart builds the answer Yahoo gives for symbol trading at price at time t: meta plus five one-minute
// bars ending at t whose last close is price (one bar's volume is null, as Yahoo's often are).
func Chart(symbol string, price float64, currency string, t time.Time) ChartResponse {
	t = t.UTC()
	const bars = 5
	const gmtOffset = -4 * 3600
	day := t.Truncate(24 * time.Hour)
	regular := Period{Timezone: "EDT", Start: day.Add(13*time.Hour + 30*time.Minute).Unix(), End: day.Add(20 * time.Hour).Unix(), GMTOffset: gmtOffset}
	pre := Period{Timezone: "EDT", Start: day.Add(8 * time.Hour).Unix(), End: regular.Start, GMTOffset: gmtOffset}
	post := Period{Timezone: "EDT", Start: regular.End, End: day.Add(24 * time.Hour).Unix(), GMTOffset: gmtOffset}

	var res ChartResult
	res.Meta = Meta{
		Currency:             currency,
		Symbol:               symbol,
		ExchangeName:         "NMS",
		FullExchangeName:     "NasdaqGS",
		InstrumentType:       "EQUITY",
		FirstTradeDate:       345479400,
		RegularMarketTime:    t.Unix(),
		HasPrePostMarketData: true,
		GMTOffset:            gmtOffset,
		Timezone:             "EDT",
		ExchangeTimezoneName: "America/New_York",
		RegularMarketPrice:   price,
		FiftyTwoWeekHigh:     round2(price * 1.31),
		FiftyTwoWeekLow:      round2(price * 0.74),
		RegularMarketDayHigh: round2(price * 1.012),
		RegularMarketDayLow:  round2(price * 0.987),
		RegularMarketVolume:  41273500,
		LongName:             symbol + " Inc.",
		ShortName:            symbol,
		ChartPreviousClose:   ptr(round2(price * 0.995)),
		PreviousClose:        ptr(round2(price * 0.995)),
		Scale:                3,
		PriceHint:            2,
		CurrentTradingPeriod: map[string]Period{"pre": pre, "regular": regular, "post": post},
		TradingPeriods:       [][]Period{{regular}},
		DataGranularity:      "1m",
		Range:                "1d",
		ValidRanges:          validRanges,
	}
	res.Indicators.Quote = make([]Bars, 1)
	q := &res.Indicators.Quote[0]
	for i := bars - 1; i >= 0; i-- {
		at := t.Truncate(time.Minute).Add(-time.Duration(i) * time.Minute)
		c := price * (1 - 0.0007*float64(i))
		res.Timestamp = append(res.Timestamp, at.Unix())
		q.Open = append(q.Open, ptr(round2(c*0.9996)))
		q.High = append(q.High, ptr(round2(c*1.0008)))
		q.Low = append(q.Low, ptr(round2(c*0.9991)))
		if i == 0 {
			q.Close = append(q.Close, ptr(price))
		} else {
			q.Close = append(q.Close, ptr(round2(c)))
		}
		if i == 2 {
			q.Volume = append(q.Volume, nil)
		} else {
			q.Volume = append(q.Volume, ptr(int64(51234+i*1700)))
		}
	}

	var out ChartResponse
	out.Chart.Result = []ChartResult{res}
	return out
}

// intraday tells the intervals Yahoo serves for the last 60 days only (1h/60m go back 730 days).
func intraday(interval string) bool {
	return slices.Contains([]string{"1m", "2m", "5m", "15m", "30m", "90m"}, interval)
}

// historyChart is the chart answer for a history set with SetHistory.
func historyChart(symbol, rng, interval string, h history) ChartResponse {
	var last float64
	var at time.Time
	for _, b := range h.bars {
		if b.Close != nil {
			last, at = *b.Close, b.Time
		}
	}
	out := Chart(symbol, last, h.currency, at)
	res := &out.Chart.Result[0]
	res.Meta.Range, res.Meta.DataGranularity = rng, interval
	res.Timestamp = nil
	q := Bars{}
	for _, b := range h.bars {
		res.Timestamp = append(res.Timestamp, b.Time.Unix())
		q.Open = append(q.Open, b.Close)
		q.High = append(q.High, b.Close)
		q.Low = append(q.Low, b.Close)
		q.Close = append(q.Close, b.Close)
		q.Volume = append(q.Volume, nil)
	}
	res.Indicators.Quote = []Bars{q}
	return out
}

// optional returns nil for 0 (the field is left out), else a pointer to v.
func optional(v float64) *float64 {
	if v == 0 {
		return nil
	}
	return &v
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func ptr[T any](v T) *T { return &v }
