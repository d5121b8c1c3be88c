package stockalert

import (
	"slices"
	"time"
)

// ChartRange is the span of a price history, in Yahoo Finance chart API's `range` spelling.
type ChartRange string

// The chart ranges a user may ask for.
const (
	Range1Day    ChartRange = "1d"
	Range5Days   ChartRange = "5d"
	Range1Month  ChartRange = "1mo"
	Range6Months ChartRange = "6mo"
	Range1Year   ChartRange = "1y"
)

// ChartRanges are the accepted ranges, shortest first.
var ChartRanges = []ChartRange{Range1Day, Range5Days, Range1Month, Range6Months, Range1Year}

// DefaultChartRange is the range of a chart asked for without one.
const DefaultChartRange = Range1Day

// ParseChartRange accepts "" (DefaultChartRange) or one of ChartRanges (case-insensitive); anything
// else is a *ValidationError naming "range".
func ParseChartRange(s string) (ChartRange, error) {
	if s == "" {
		return DefaultChartRange, nil
	}
	r := ChartRange(lowerASCII(s))
	if !slices.Contains(ChartRanges, r) {
		return "", Invalid("range", "must be one of 1d, 5d, 1mo, 6mo, 1y")
	}
	return r, nil
}

// Span is how far back the range reaches from now.
func (r ChartRange) Span() time.Duration {
	const day = 24 * time.Hour
	switch r {
	case Range5Days:
		return 5 * day
	case Range1Month:
		return 30 * day
	case Range6Months:
		return 182 * day
	case Range1Year:
		return 365 * day
	default:
		return day
	}
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// PricePoint is one close of a price history.
type PricePoint struct {
	Time  time.Time
	Price float64
}

// PriceHistory is a ticker's closes over a range, oldest first, in Currency exactly as the source
// quotes it (GBp is pence).
type PriceHistory struct {
	Ticker   Ticker
	Range    ChartRange
	Currency string
	Points   []PricePoint
	// Source is where the prices come from (QuoteSourceSimulated for made-up ones).
	Source QuoteSource
}
