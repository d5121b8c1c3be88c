package stockalert

import (
	"regexp"
	"strings"
)

// Ticker is a normalised (upper-case) Yahoo Finance symbol such as AAPL, BRK-B, ^GSPC, EURUSD=X or
// BTC-USD.
type Ticker string

// MaxTickerLen is the longest symbol accepted; Yahoo's longest are well below it.
const MaxTickerLen = 16

var tickerPattern = regexp.MustCompile(`^[A-Z0-9^][A-Z0-9.\-=^]*$`)

// ParseTicker trims and upper-cases s and checks it is a plausible symbol. It returns a
// *ValidationError for field "ticker" otherwise.
func ParseTicker(s string) (Ticker, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	switch {
	case t == "":
		return "", Invalid("ticker", "is required")
	case len(t) > MaxTickerLen:
		return "", Invalid("ticker", "is longer than %d characters", MaxTickerLen)
	case !tickerPattern.MatchString(t):
		return "", Invalid("ticker", "%q is not a symbol: use letters, digits and . - = ^", s)
	}
	return Ticker(t), nil
}

func (t Ticker) String() string { return string(t) }
