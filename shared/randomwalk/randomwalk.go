// Package randomwalk is the "simulated" quote source: made-up prices that move like a stock's, so the
// whole pipeline can be watched (and alerts raised) without a route to Yahoo Finance.
//
// Every ticker follows its own geometric random walk with no drift in log-price: a well-known symbol
// (TypicalPrices) starts within ±5% of its typical price, any other at a price between 20 and 500,
// both derived from (seed, ticker); each later Quote call moves it by a factor
// exp(σ·Z), Z standard normal, drawn from a generator seeded by (seed, ticker). The same seed gives the
// same sequence of prices per ticker, whatever other tickers are asked for in between.
//
// σ (Config.Volatility, default 0.02) is per step, so per quote. With the default a price leaves a ±5%
// band around its first quote after about ten quotes on average (BenchmarkQuotesToLeaveBand measures
// 9.8): at one quote a minute, alerts come within minutes. Real large caps move about 0.1% a minute.
// There is no pull back: over days the spread of prices keeps widening like σ·√steps.
//
// Like a market's, a simulated quote's previous close (Quote.PreviousClose) holds still through the
// day: it is where the ticker's walk stood when the current UTC day (by the clock given to New) began
// — the last price it gave on an earlier day, or, for a ticker first asked for today, its starting
// price. So the day change of a ticker's first quote is 0, and it then follows the walk until the next
// UTC midnight, when the previous close moves on to the last price of the day before.
package randomwalk

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// Defaults and bounds of Config.
const (
	DefaultSeed       = 1
	DefaultVolatility = 0.02
	// MaxVolatility caps σ: beyond it a single step is a crash or a moonshot.
	MaxVolatility = 0.5
	// MinStartPrice and MaxStartPrice bound a ticker's first price (drawn log-uniformly between them).
	MinStartPrice = 20.0
	MaxStartPrice = 500.0
	// Currency is the currency of every simulated quote.
	Currency = "USD"
)

// Config configures a Source; parse it with github.com/caarlos0/env/v11.
type Config struct {
	// Seed picks the universe of price paths.
	Seed int64 `env:"SIMULATED_SEED" envDefault:"1"`
	// Volatility is σ, the standard deviation of a step's log-return. 0, negative or NaN mean
	// DefaultVolatility; values above MaxVolatility are capped.
	Volatility float64 `env:"SIMULATED_VOLATILITY" envDefault:"0.02"`
}

// Source produces simulated quotes. It is safe for concurrent use.
type Source struct {
	seed  uint64
	sigma float64
	now   func() time.Time

	mu    sync.Mutex
	walks map[stockalert.Ticker]*walk
}

type walk struct {
	rng      *rand.Rand
	logPrice float64
	started  bool
	// day is the UTC day of the latest quote, and prevClose the walk's price (rounded) when that day
	// began.
	day       time.Time
	prevClose float64
}

// New returns a Source. now stamps quotes; nil means time.Now.
func New(cfg Config, now func() time.Time) *Source {
	sigma := cfg.Volatility
	switch {
	case math.IsNaN(sigma) || sigma <= 0:
		sigma = DefaultVolatility
	case sigma > MaxVolatility:
		sigma = MaxVolatility
	}
	if now == nil {
		now = time.Now
	}
	seed := uint64(cfg.Seed) //nolint:gosec // G115: the seed's bits are reused as they are; a negative seed is as good as any
	return &Source{seed: seed, sigma: sigma, now: now, walks: map[stockalert.Ticker]*walk{}}
}

// Volatility returns σ in use after New's corrections.
func (s *Source) Volatility() float64 { return s.sigma }

// Quote returns ticker's next simulated price, in USD, stamped with the clock's now, its Source
// stockalert.QuoteSourceSimulated. The first call for
// a ticker returns its starting price; each later call moves one step. Prices are rounded to cents
// (never below 0.01); the walk itself keeps full precision. PreviousClose is the walk's price at the
// start of the quote's UTC day (see the package doc), so it is never 0.
//
// Errors: a *stockalert.ValidationError for a malformed ticker, or ctx's error when ctx is done. Any
// valid ticker has a price; the walk does not advance on error.
func (s *Source) Quote(ctx context.Context, ticker stockalert.Ticker) (stockalert.Quote, error) {
	t, err := stockalert.ParseTicker(string(ticker))
	if err != nil {
		return stockalert.Quote{}, fmt.Errorf("simulated quote: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return stockalert.Quote{}, fmt.Errorf("simulated quote %s: %w", t, err)
	}

	now := s.now()
	day := now.UTC().Truncate(24 * time.Hour)
	s.mu.Lock()
	w := s.walks[t]
	if w == nil {
		w = s.newWalk(t)
		s.walks[t] = w
	}
	if !w.started || !day.Equal(w.day) {
		// A new day: it opens where the walk stands, before this quote's step.
		w.day, w.prevClose = day, cents(w.logPrice)
	}
	if w.started {
		w.logPrice += s.sigma * w.rng.NormFloat64()
	}
	w.started = true
	price, prevClose := cents(w.logPrice), w.prevClose
	s.mu.Unlock()

	return stockalert.Quote{
		Ticker: t, Price: price, Currency: Currency, Time: now, Source: stockalert.QuoteSourceSimulated,
		PreviousClose: prevClose,
	}, nil
}

// cents returns the price at logPrice rounded to cents, never below 0.01.
func cents(logPrice float64) float64 {
	return math.Max(0.01, math.Round(math.Exp(logPrice)*100)/100)
}

// newWalk seeds ticker's generator from (seed, ticker) and draws its starting price.
func (s *Source) newWalk(t stockalert.Ticker) *walk {
	h := fnv.New64a()
	_, _ = h.Write([]byte(t))
	// Simulated prices must be reproducible from the seed, so a seeded PCG, not crypto/rand.
	rng := rand.New(rand.NewPCG(s.seed, h.Sum64())) //nolint:gosec // G404: determinism is the point; nothing secret
	lo, hi := math.Log(MinStartPrice), math.Log(MaxStartPrice)
	if typical, ok := TypicalPrices[t]; ok {
		lo, hi = math.Log(typical)-typicalSpread, math.Log(typical)+typicalSpread
	}
	return &walk{rng: rng, logPrice: lo + rng.Float64()*(hi-lo)}
}

// typicalSpread is how far in log-price a well-known symbol's start may be from its typical price
// (about ±5%).
const typicalSpread = 0.05

// TypicalPrices are illustrative prices (in USD, rounded; about late 2025, from public market data) of
// well-known symbols, so that a simulated AAPL starts near where a real one trades. They are not
// quotes and are never updated: a simulated price is made up whatever its start.
var TypicalPrices = map[stockalert.Ticker]float64{
	"AAPL": 270, "MSFT": 500, "NVDA": 180, "AMZN": 230, "GOOGL": 280, "GOOG": 280, "META": 650,
	"TSLA": 420, "BRK-B": 500, "JPM": 300, "V": 340, "MA": 560, "WMT": 100, "JNJ": 190, "XOM": 115,
	"NFLX": 110, "AMD": 240, "INTC": 38, "KO": 70, "DIS": 112, "^GSPC": 6700, "BTC-USD": 95000,
}

// historyPoints is how many closes History gives for any range.
const historyPoints = 120

// History returns a plausible made-up history of ticker over rng: historyPoints closes evenly spaced
// up to the clock's now, a random walk with σ scaled to the spacing (σ per minute-long step, as Quote
// moves) that ends at the ticker's current price (its starting price when never quoted), in USD. The
// same seed gives the same history for the same ticker, range and current price; it does not move the
// walk.
//
// Errors: a *stockalert.ValidationError for a malformed ticker or an unknown range; ctx's error.
func (s *Source) History(ctx context.Context, ticker stockalert.Ticker, rng stockalert.ChartRange) (stockalert.PriceHistory, error) {
	t, err := stockalert.ParseTicker(string(ticker))
	if err != nil {
		return stockalert.PriceHistory{}, fmt.Errorf("simulated history: %w", err)
	}
	if _, err := stockalert.ParseChartRange(string(rng)); err != nil || rng == "" {
		return stockalert.PriceHistory{}, fmt.Errorf("simulated history: %w", stockalert.Invalid("range", "must be one of 1d, 5d, 1mo, 6mo, 1y"))
	}
	if err := ctx.Err(); err != nil {
		return stockalert.PriceHistory{}, fmt.Errorf("simulated history %s: %w", t, err)
	}
	now := s.now()
	s.mu.Lock()
	w := s.walks[t]
	var end float64
	if w == nil {
		end = s.newWalk(t).logPrice
	} else {
		end = w.logPrice
	}
	s.mu.Unlock()

	step := rng.Span() / (historyPoints - 1)
	sigma := s.sigma * math.Sqrt(step.Minutes())
	if sigma > MaxVolatility {
		sigma = MaxVolatility
	}
	// Bounded so that a year's history stays a plausible picture, not a crash.
	sigma = math.Min(sigma, 0.03)
	h := fnv.New64a()
	_, _ = h.Write([]byte(string(t) + "/" + string(rng)))
	r := rand.New(rand.NewPCG(s.seed^0x9e3779b97f4a7c15, h.Sum64())) //nolint:gosec // G404: determinism is the point; nothing secret
	out := stockalert.PriceHistory{Ticker: t, Range: rng, Currency: Currency, Source: stockalert.QuoteSourceSimulated,
		Points: make([]stockalert.PricePoint, historyPoints)}
	lp := end
	for i := historyPoints - 1; i >= 0; i-- {
		out.Points[i] = stockalert.PricePoint{Time: now.Add(-time.Duration(historyPoints-1-i) * step).UTC(), Price: cents(lp)}
		lp -= sigma * r.NormFloat64()
	}
	return out, nil
}
