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
}

var currencyPattern = regexp.MustCompile(`^[A-Za-z]{0,8}$`)

// Validate checks the quote can be stored: a finite positive price, a currency code of at most eight
// letters (empty when unknown) and a time. It returns a *ValidationError naming the field.
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
