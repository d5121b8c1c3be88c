package stockalert

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Quote is a ticker's price at a moment, as a quote source reported it. Prices are stored once per
// (ticker, time) and shared by every subscriber of the ticker.
type Quote struct {
	Ticker   Ticker
	Price    float64
	Currency string
	Time     time.Time
	// Source says where the price comes from; the zero value is QuoteSourceYahoo. Simulated prices
	// are recorded and shown as such, so they never mix silently with real ones.
	Source QuoteSource
	// PreviousClose is the previous regular session's close in the same currency (Yahoo's chart
	// meta.chartPreviousClose for range=1d, else meta.previousClose); 0 when the source did not give
	// it, and then the day change is unknown.
	PreviousClose float64
}

// DayChange returns the change from the previous close, in the quote's currency, and whether it is
// known (a previous close was given).
func (q Quote) DayChange() (float64, bool) {
	if q.PreviousClose <= 0 {
		return 0, false
	}
	return q.Price - q.PreviousClose, true
}

// DayChangePercent returns the change from the previous close in percent of it ((price − previous
// close) / previous close × 100), and whether it is known.
func (q Quote) DayChangePercent() (float64, bool) {
	if q.PreviousClose <= 0 {
		return 0, false
	}
	return (q.Price - q.PreviousClose) / q.PreviousClose * 100, true
}

// QuoteSource names where a quote comes from: the market (Yahoo Finance) or the simulation.
type QuoteSource string

// The quote sources. The empty QuoteSource is QuoteSourceYahoo.
const (
	QuoteSourceYahoo     QuoteSource = "yahoo"
	QuoteSourceSimulated QuoteSource = "simulated"
)

// Simulated reports whether the quote is made up (the "simulated" quote source).
func (q Quote) Simulated() bool { return q.Source == QuoteSourceSimulated }

// Stored returns the source's stored name: "yahoo" for the empty source.
func (s QuoteSource) Stored() string {
	if s == "" {
		return string(QuoteSourceYahoo)
	}
	return string(s)
}

var currencyPattern = regexp.MustCompile(`^[A-Za-z]{0,8}$`)

// Validate checks the quote can be stored: a finite positive price, a currency code of at most eight
// letters (empty when unknown), a time, and a previous close that is absent (0) or finite and positive. It returns a *ValidationError naming the field.
func (q Quote) Validate() error {
	if _, err := ParseTicker(string(q.Ticker)); err != nil {
		return err
	}
	if math.IsNaN(q.Price) || math.IsInf(q.Price, 0) || q.Price <= 0 {
		return Invalid("price", "must be a finite number greater than 0")
	}
	if !currencyPattern.MatchString(q.Currency) {
		return Invalid("currency", "%q is not a currency code", q.Currency)
	}
	if q.Time.IsZero() {
		return Invalid("time", "is required")
	}
	if math.IsNaN(q.PreviousClose) || math.IsInf(q.PreviousClose, 0) || q.PreviousClose < 0 {
		return Invalid("previous_close", "must be a finite number greater than 0, or absent")
	}
	return nil
}

// FormatPrice writes a price with at least two decimals and as many more as it needs, up to six:
// 200 → "200.00", 1.08745 → "1.08745", 0.000012345 → "0.000012".
func FormatPrice(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	s := strconv.FormatFloat(v, 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	dot := strings.IndexByte(s, '.')
	for len(s)-dot-1 < 2 {
		s += "0"
	}
	return s
}

// minorUnits are the minor currency units Yahoo Finance quotes some exchanges in. Yahoo's
// meta.currency is case-sensitive: GBp is pence (London), ZAc South African cents (Johannesburg), ILA
// agorot (Tel Aviv); GBP, ZAR and ILS are the major units, 100 times larger.
var minorUnits = map[string]string{"GBp": "pence", "ZAc": "South African cents", "ILA": "agorot"}

// CurrencyUnitWord returns the word for a minor-unit currency code as Yahoo Finance spells it
// ("GBp" → "pence", "ZAc" → "South African cents", "ILA" → "agorot"), or "" for any other code. Codes
// are compared exactly: "GBP" is pounds and has no word.
func CurrencyUnitWord(code string) string { return minorUnits[code] }

// FormatAmount writes a price (FormatPrice) followed by its currency code exactly as quoted, never
// re-cased or converted, and for a minor unit its word: (72.5, "GBp") → "72.50 GBp (pence)",
// (190.1, "USD") → "190.10 USD", (3, "") → "3.00".
func FormatAmount(v float64, currency string) string {
	s := FormatPrice(v)
	if currency == "" {
		return s
	}
	s += " " + currency
	if w := CurrencyUnitWord(currency); w != "" {
		s += " (" + w + ")"
	}
	return s
}

// DefaultMaxQuoteAge is how old a quote may be and still count as a market price (QUOTE_MAX_AGE).
// Seven days: the longest regular closures of the major Western exchanges (a weekend plus two
// holidays, such as Easter on the London Stock Exchange: Thursday's close to Tuesday's open, about
// 4.6 days) stay well inside it, while a renamed or delisted symbol, which Yahoo keeps answering with
// its last trade of weeks or months ago, is caught within a week. Exchanges with longer closures
// (Shanghai and Shenzhen over the Lunar New Year or Golden Week, up to about 11 days) need a longer
// setting to avoid being flagged while closed.
const DefaultMaxQuoteAge = 7 * 24 * time.Hour

// IsStale reports whether a quote made at quoted is older than maxAge at now: the symbol has not
// traded for that long (renamed, delisted, suspended). A stale quote is recorded as the symbol's last
// trade but is not a price event (no alert is evaluated on it), and readers flag it. A maxAge of zero
// or less means DefaultMaxQuoteAge.
func IsStale(quoted, now time.Time, maxAge time.Duration) bool {
	if maxAge <= 0 {
		maxAge = DefaultMaxQuoteAge
	}
	return now.Sub(quoted) > maxAge
}
