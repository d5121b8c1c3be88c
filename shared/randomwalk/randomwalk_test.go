package randomwalk_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/stockalert/stockalert/shared/randomwalk"
	"github.com/stockalert/stockalert/shared/stockalert"
)

var clock = time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return clock }

func prices(t *testing.T, s *randomwalk.Source, ticker stockalert.Ticker, n int) []float64 {
	t.Helper()
	out := make([]float64, n)
	for i := range out {
		q, err := s.Quote(context.Background(), ticker)
		if err != nil {
			t.Fatalf("Quote(%s): %v", ticker, err)
		}
		out[i] = q.Price
	}
	return out
}

func TestQuoteIsAValidQuoteStampedByTheClock(t *testing.T) {
	s := randomwalk.New(randomwalk.Config{Seed: 7}, fixedNow)
	q, err := s.Quote(context.Background(), "brk-b")
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Validate(); err != nil {
		t.Errorf("quote %+v invalid: %v", q, err)
	}
	if q.Ticker != "BRK-B" || q.Currency != "USD" || !q.Time.Equal(clock) || !q.Simulated() {
		t.Errorf("quote = %+v", q)
	}
}

func TestSameSeedSameSequencePerTicker(t *testing.T) {
	a := randomwalk.New(randomwalk.Config{Seed: 42}, fixedNow)
	b := randomwalk.New(randomwalk.Config{Seed: 42}, fixedNow)

	// a asks for AAPL alone; b interleaves other tickers, which must not disturb AAPL's path.
	want := prices(t, a, "AAPL", 50)
	var got []float64
	for i := 0; i < 50; i++ {
		prices(t, b, "MSFT", 1+i%3)
		got = append(got, prices(t, b, "AAPL", 1)...)
		prices(t, b, "^GSPC", 1)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("same seed, different AAPL paths:\n%v\n%v", want, got)
	}
	if slices.Equal(want, prices(t, randomwalk.New(randomwalk.Config{Seed: 43}, fixedNow), "AAPL", 50)) {
		t.Error("seeds 42 and 43 gave the same AAPL path")
	}
	if slices.Equal(want, prices(t, randomwalk.New(randomwalk.Config{Seed: 42}, fixedNow), "AAPL.L", 50)) {
		t.Error("AAPL and AAPL.L gave the same path")
	}
	// The path moves.
	if len(slices.Compact(slices.Clone(want))) < 40 {
		t.Errorf("path barely moves: %v", want)
	}
}

func TestWellKnownSymbolsStartNearTheirTypicalPrice(t *testing.T) {
	if len(randomwalk.TypicalPrices) < 20 {
		t.Fatalf("%d typical prices, want about 20", len(randomwalk.TypicalPrices))
	}
	for seed := int64(1); seed <= 5; seed++ {
		s := randomwalk.New(randomwalk.Config{Seed: seed}, fixedNow)
		for ticker, typical := range randomwalk.TypicalPrices {
			q, err := s.Quote(context.Background(), ticker)
			if err != nil {
				t.Fatal(err)
			}
			if q.Price < typical*0.95 || q.Price > typical*1.06 {
				t.Errorf("seed %d: %s starts at %v, typical %v", seed, ticker, q.Price, typical)
			}
		}
	}
	// Lower-case input is the same symbol.
	q, err := randomwalk.New(randomwalk.Config{Seed: 1}, fixedNow).Quote(context.Background(), "aapl")
	if err != nil || q.Price < 250 || q.Price > 290 {
		t.Errorf("aapl: %v %v", q, err)
	}
}

func TestStartPricesAreSpreadOverTheRange(t *testing.T) {
	s := randomwalk.New(randomwalk.Config{Seed: 1}, fixedNow)
	var below100, above100 int
	for i := 0; i < 300; i++ {
		q, err := s.Quote(context.Background(), stockalert.Ticker(fmt.Sprintf("T%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if q.Price < randomwalk.MinStartPrice || q.Price > randomwalk.MaxStartPrice {
			t.Fatalf("start price %v of T%d outside [%v, %v]", q.Price, i, randomwalk.MinStartPrice, randomwalk.MaxStartPrice)
		}
		// Log-uniform: 100 splits [20, 500] at the half in log terms (ln 5 / ln 25 = 0.5).
		if q.Price < 100 {
			below100++
		} else {
			above100++
		}
	}
	if below100 < 100 || above100 < 100 {
		t.Errorf("start prices lopsided: %d below 100, %d above", below100, above100)
	}
}

// The log-returns of a step have mean ~0 and standard deviation ~σ. The bounds are many standard
// errors wide, and the generator is seeded, so this cannot flake.
func TestStepStatistics(t *testing.T) {
	for _, sigma := range []float64{0.005, 0.02, 0.1} {
		t.Run(fmt.Sprint(sigma), func(t *testing.T) {
			s := randomwalk.New(randomwalk.Config{Seed: 3, Volatility: sigma}, fixedNow)
			var rets []float64
			for k := 0; k < 40; k++ {
				p := prices(t, s, stockalert.Ticker(fmt.Sprintf("S%d", k)), 251)
				for i := 1; i < len(p); i++ {
					rets = append(rets, math.Log(p[i]/p[i-1]))
				}
			}
			n := float64(len(rets))
			var sum, sq float64
			for _, r := range rets {
				sum += r
			}
			mean := sum / n
			for _, r := range rets {
				sq += (r - mean) * (r - mean)
			}
			sd := math.Sqrt(sq / (n - 1))
			if math.Abs(sd-sigma) > 0.1*sigma {
				t.Errorf("sd of log-returns = %.5f, want %.5f ± 10%%", sd, sigma)
			}
			if math.Abs(mean) > 6*sigma/math.Sqrt(n) {
				t.Errorf("mean log-return = %.6f, want ~0 (n=%d)", mean, len(rets))
			}
		})
	}
}

// With the default volatility a ±5% band is left within minutes at one quote a minute.
func TestDefaultVolatilityLeavesAFivePercentBandQuickly(t *testing.T) {
	s := randomwalk.New(randomwalk.Config{Seed: 11}, fixedNow)
	if s.Volatility() != randomwalk.DefaultVolatility {
		t.Fatalf("Volatility = %v", s.Volatility())
	}
	steps := exitSteps(t, s, 400, 0.05, 1000)
	slices.Sort(steps)
	median := steps[len(steps)/2]
	if median > 15 {
		t.Errorf("median quotes to leave ±5%% = %d, want a handful", median)
	}
	if steps[len(steps)-1] >= 1000 {
		t.Errorf("some ticker stayed in the band for 1000 quotes")
	}
}

// exitSteps returns, for n tickers, how many quotes after the first one it took to leave ±band.
func exitSteps(t testing.TB, s *randomwalk.Source, n int, band float64, limit int) []int {
	var out []int
	for k := 0; k < n; k++ {
		ticker := stockalert.Ticker(fmt.Sprintf("E%d", k))
		q, err := s.Quote(context.Background(), ticker)
		if err != nil {
			t.Fatal(err)
		}
		start, i := q.Price, 1
		for ; i < limit; i++ {
			q, err := s.Quote(context.Background(), ticker)
			if err != nil {
				t.Fatal(err)
			}
			if q.Price > start*(1+band) || q.Price < start*(1-band) {
				break
			}
		}
		out = append(out, i)
	}
	return out
}

func TestVolatilityIsCorrected(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{
		{0, randomwalk.DefaultVolatility},
		{-0.3, randomwalk.DefaultVolatility},
		{math.NaN(), randomwalk.DefaultVolatility},
		{0.001, 0.001},
		{3, randomwalk.MaxVolatility},
		{math.Inf(1), randomwalk.MaxVolatility},
	} {
		if got := randomwalk.New(randomwalk.Config{Volatility: tc.in}, nil).Volatility(); got != tc.want {
			t.Errorf("Volatility %v -> %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestErrorsDoNotAdvanceTheWalk(t *testing.T) {
	a := randomwalk.New(randomwalk.Config{Seed: 5}, nil)
	b := randomwalk.New(randomwalk.Config{Seed: 5}, nil)

	_, err := a.Quote(context.Background(), "NOT A TICKER")
	if v, ok := stockalert.AsValidation(err); !ok || v.Field != "ticker" {
		t.Errorf("bad ticker: err = %v, want a validation error for ticker", err)
	}
	prices(t, a, "AAPL", 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Quote(ctx, "AAPL"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: err = %v", err)
	}
	got := prices(t, a, "AAPL", 3)
	want := prices(t, b, "AAPL", 4)[1:]
	if !slices.Equal(got, want) {
		t.Errorf("after errors the path is %v, want %v", got, want)
	}
}

func TestConcurrentQuotesKeepEachPath(t *testing.T) {
	s := randomwalk.New(randomwalk.Config{Seed: 9}, nil)
	ref := randomwalk.New(randomwalk.Config{Seed: 9}, nil)
	tickers := []stockalert.Ticker{"AAPL", "MSFT", "GOOG", "AMZN"}
	var wg sync.WaitGroup
	got := make([][]float64, len(tickers))
	for i, tk := range tickers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				q, err := s.Quote(context.Background(), tk)
				if err != nil {
					t.Error(err)
					return
				}
				got[i] = append(got[i], q.Price)
			}
		}()
	}
	wg.Wait()
	for i, tk := range tickers {
		if !slices.Equal(got[i], prices(t, ref, tk, 200)) {
			t.Errorf("%s: concurrent path differs from the sequential one", tk)
		}
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	cfg, err := env.ParseAs[randomwalk.Config]()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Seed != randomwalk.DefaultSeed || cfg.Volatility != randomwalk.DefaultVolatility {
		t.Errorf("defaults = %+v", cfg)
	}
	t.Setenv("SIMULATED_SEED", "-12")
	t.Setenv("SIMULATED_VOLATILITY", "0.05")
	cfg, err = env.ParseAs[randomwalk.Config]()
	if err != nil || cfg.Seed != -12 || cfg.Volatility != 0.05 {
		t.Errorf("parsed %+v, %v", cfg, err)
	}
}

func BenchmarkQuote(b *testing.B) {
	s := randomwalk.New(randomwalk.Config{}, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Quote(ctx, "AAPL"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuotesToLeaveBand reports how many quotes a price takes to leave ±5% with the default σ.
func BenchmarkQuotesToLeaveBand(b *testing.B) {
	var total, count int
	for b.Loop() {
		s := randomwalk.New(randomwalk.Config{Seed: int64(count)}, nil)
		for _, n := range exitSteps(b, s, 100, 0.05, 10000) {
			total += n
			count++
		}
	}
	b.ReportMetric(float64(total)/float64(count), "quotes/exit")
}

func TestPreviousCloseIsTheWalksPriceAtTheStartOfTheUTCDay(t *testing.T) {
	now := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	s := randomwalk.New(randomwalk.Config{Seed: 3}, func() time.Time { return now })
	quote := func() stockalert.Quote {
		t.Helper()
		q, err := s.Quote(context.Background(), "AAPL")
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("quote %+v invalid: %v", q, err)
		}
		return q
	}

	// First day: the ticker opens at its starting price, which stays the previous close all day.
	first := quote()
	if first.PreviousClose != first.Price {
		t.Fatalf("first quote: previous close %v, want its starting price %v", first.PreviousClose, first.Price)
	}
	if pct, known := first.DayChangePercent(); !known || pct != 0 {
		t.Errorf("first quote: day change %v%% (known %v), want 0%%", pct, known)
	}
	last := first
	for i := 0; i < 30; i++ {
		now = now.Add(47 * time.Minute) // 23.5 h in all: still 14 March
		last = quote()
		if last.PreviousClose != first.Price {
			t.Fatalf("quote %d on the first day: previous close %v, want %v", i, last.PreviousClose, first.Price)
		}
	}
	if last.Price == first.Price {
		t.Fatalf("the walk did not move in a day: %v", last.Price)
	}
	if change, _ := last.DayChange(); math.Abs(change-(last.Price-first.Price)) > 1e-9 {
		t.Errorf("day change %v, want %v", change, last.Price-first.Price)
	}

	// Next UTC day: the previous close is the last price of the day before, and holds through the day.
	now = time.Date(2025, 3, 15, 0, 0, 1, 0, time.UTC)
	for i := 0; i < 10; i++ {
		q := quote()
		if q.PreviousClose != last.Price {
			t.Fatalf("quote %d on the second day: previous close %v, want yesterday's last price %v", i, q.PreviousClose, last.Price)
		}
		now = now.Add(time.Hour)
	}
}
