// Package yahootest is a fake Yahoo Finance chart API for tests: an httptest server on 127.0.0.1 that
// answers GET /v8/finance/chart/{SYMBOL} in Yahoo's wire format (meta, timestamp and indicators), 404
// with Yahoo's error body for symbols it was not told about, and injected failures (any status, or no
// answer at all) on demand. It is safe for concurrent use.
package yahootest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

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
	faults     []*fault
	requests   map[string]int
	total      int
	userAgents []string
	uris       []string
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
	symbol string // "" matches every symbol
	status int    // 0: hang until the client gives up
	left   int
}

var validIntervals = []string{"1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "4h", "1d", "5d", "1wk", "1mo", "3mo"}
var validRanges = []string{"1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"}

// NewServer starts a fake with no symbols and closes it when the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		closing:   make(chan struct{}),
		quotes:    map[string]quote{},
		histories: map[historyKey]history{},
		prevClose: map[string]prevCloseFields{},
		raw:       map[string]rawAnswer{},
		requests:  map[string]int{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// URL is the base URL to configure the client with (yahoo.Config.BaseURL).
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
// and previousClose only sometimes). Without it the meta carries both, at 99.5 % of the price. It
// lasts across SetQuote calls for the symbol.
func (s *Server) SetPreviousClose(symbol string, chartPreviousClose, previousClose float64) {
	symbol = strings.ToUpper(symbol)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prevClose[symbol] = prevCloseFields{chart: chartPreviousClose, meta: previousClose}
}

// SetRaw makes every request for symbol answer status with body as JSON, for malformed payloads.
func (s *Server) SetRaw(symbol string, status int, body string) {
	symbol = strings.ToUpper(symbol)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw[symbol] = rawAnswer{status: status, body: body}
}

// Fail makes the next n requests for symbol ("" for any symbol) answer status with a body like
// Yahoo's edge sends (plain text for 429, HTML for 5xx). Injected failures are used in the order they
// were added, before any quote.
func (s *Server) Fail(symbol string, status int, n int) {
	s.addFault(symbol, status, n)
}

// Hang makes the next n requests for symbol ("" for any) get no answer until the client gives up or
// the server closes: a timeout, seen from the client.
func (s *Server) Hang(symbol string, n int) {
	s.addFault(symbol, 0, n)
}

func (s *Server) addFault(symbol string, status, n int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{symbol: strings.ToUpper(symbol), status: status, left: n})
}

// Requests returns how many chart requests named symbol (case-insensitively), or all of them for "".
func (s *Server) Requests(symbol string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if symbol == "" {
		return s.total
	}
	return s.requests[strings.ToUpper(symbol)]
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
	symbol, ok := strings.CutPrefix(r.URL.Path, "/v8/finance/chart/")
	if !ok || symbol == "" || strings.Contains(symbol, "/") {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	symbol = strings.ToUpper(symbol)

	s.mu.Lock()
	s.total++
	s.requests[symbol]++
	s.uris = append(s.uris, r.RequestURI)
	if ua := r.UserAgent(); !slices.Contains(s.userAgents, ua) {
		s.userAgents = append(s.userAgents, ua)
	}
	f := s.takeFault(symbol)
	raw, isRaw := s.raw[symbol]
	q, known := s.quotes[symbol]
	pc, pcSet := s.prevClose[symbol]
	hist, isHist := s.histories[historyKey{symbol, r.URL.Query().Get("range")}]
	s.mu.Unlock()

	switch {
	case f != nil && f.status == 0:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return
	case f != nil:
		writeFailure(w, f.status)
		return
	}

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

// takeFault consumes the first injected failure that applies to symbol. s.mu must be held.
func (s *Server) takeFault(symbol string) *fault {
	for i, f := range s.faults {
		if f.symbol == "" || f.symbol == symbol {
			f.left--
			if f.left == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			return f
		}
	}
	return nil
}

func writeFailure(w http.ResponseWriter, status int) {
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
