package stockalert

import (
	"regexp"
	"strings"
)

// Ticker is a normalised (upper-case) Yahoo Finance symbol such as AAPL, BRK-B, ^GSPC, EURUSD=X,
// ES=F, BTC-USD, VOD.L or M&M.NS.
//
// The alphabet is what Yahoo's symbols contain: letters, digits and . - = ^ &. Exchange suffixes
// follow a dot (VOD.L, 7203.T, M&M.NS), share classes a hyphen (BRK-B; Yahoo writes BRK/B this way),
// FX pairs and futures end in =X and =F, indices start with ^ (^GSPC), and NSE symbols may hold an
// ampersand (M&M.NS, L&TFH.NS, J&KBANK.NS). The marks only separate: a symbol is runs of letters and
// digits joined by single marks, with at most a ^ before the first run, so it holds a letter or digit,
// ends with one, and never has two marks in a row (^, A&&&, A=, A..L, ^^GSPC are refused). Letters are upper-cased, as yfinance does
// (TickerBase: ticker.upper()): Yahoo's symbols have no lower-case letters. Anything else (spaces,
// /, ?, #, %, unicode) is refused, so a symbol can never change the path or query of a request that
// carries it.
type Ticker string

// MaxTickerLen is the longest symbol accepted; Yahoo's longest are well below it.
const MaxTickerLen = 16

// tickerPattern: an optional leading ^, then runs of letters and digits joined by single marks . - = ^ &.
var tickerPattern = regexp.MustCompile(`^\^?[A-Z0-9]+(?:[.\-=^&][A-Z0-9]+)*$`)

// ParseTicker trims and upper-cases s and checks it is a plausible Yahoo symbol (see Ticker). It
// returns a *ValidationError for field "ticker" otherwise.
func ParseTicker(s string) (Ticker, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	switch {
	case t == "":
		return "", Invalid("ticker", "is required")
	case len(t) > MaxTickerLen:
		return "", Invalid("ticker", "is longer than %d characters", MaxTickerLen)
	case !tickerPattern.MatchString(t):
		return "", Invalid("ticker", "%q is not a symbol: use letters and digits, joined by single . - = ^ & (a ^ may also lead), ending with a letter or digit", s)
	}
	return Ticker(t), nil
}

func (t Ticker) String() string { return string(t) }
