package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/sqlite"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// benchStores are the stores the benchmarks compare: SQLite always, MySQL/MariaDB with MYSQL_DSN.
func benchStores() []struct {
	name string
	open storetest.Opener
} {
	stores := []struct {
		name string
		open storetest.Opener
	}{{"sqlite", storetest.OpenSQLite}}
	if os.Getenv("MYSQL_DSN") != "" {
		stores = append(stores, struct {
			name string
			open storetest.Opener
		}{"mysql", storetest.OpenMySQL})
	}
	return stores
}

// BenchmarkRecordPrices: one collector batch of 1,000 new quotes (one per ticker) through the
// RecordPrices command: duplicate look-up, multi-row insert and 1,000 outbox events, in one transaction.
func BenchmarkRecordPrices(b *testing.B) {
	for _, st := range benchStores() {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			record := command.NewRecordPricesHandler(s, stockalert.TopicPrices, nil, nil)
			ctx := context.Background()
			t0 := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
			batch := make([]stockalert.Quote, 1000)
			for i := 0; b.Loop(); i++ {
				for j := range batch {
					batch[j] = stockalert.Quote{Ticker: stockalert.Ticker(ticker(j)), Price: 100 + float64(j%50),
						Currency: "USD", Time: t0.Add(time.Duration(i) * time.Minute)}
				}
				if err := record.Handle(ctx, command.RecordPrices{Quotes: batch}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "quotes/s")
		})
	}
}

// BenchmarkEvaluatePrice: 100,000 alert rules (10,000 users × 10, mixed kinds, see seed) over 1,000
// tickers; each op is one price event of the next ticker (price in [100, 150), previous close within
// ±4 % of it). "evaluate" runs the whole EvaluatePrice command (find, alert, mark, re-arm, history,
// outbox, one transaction); "find/set-based" only the statement that finds the firing rules;
// "find/per-rule" the baseline that finds the same rules with one query per rule of the ticker. Each
// reports its p50 and p99 per event in milliseconds: compare ratios within one run. Two floors put
// them in scale: "floor/round-trip" is SELECT 1 (the client, the network and the server's reading of a
// statement), "floor/one-rule" one query of the baseline (a rule and its owner by primary key): the
// baseline costs about the ticker's 100 rules times that, so the ratio can only pass 100 ÷ (find's
// cost in one-rule queries).
//
// BENCH_SCALE=1 (make bench BENCH_SCALE=1) adds the same at 1,000,000 rules (100,000 users × 10, 1,000
// rules a ticker), as sqlite-1M and mysql-1M.
func BenchmarkEvaluatePrice(b *testing.B) {
	type size struct {
		suffix string
		users  int
	}
	sizes := []size{{"", 10_000}}
	if os.Getenv("BENCH_SCALE") != "" {
		sizes = append(sizes, size{"-1M", 100_000})
	}
	for _, st := range benchStores() {
		for _, sz := range sizes {
			benchmarkEvaluatePrice(b, st.name+sz.suffix, st.open, sz.users)
		}
	}
}

func benchmarkEvaluatePrice(b *testing.B, name string, open storetest.Opener, users int) {
	b.Run(name, func(b *testing.B) {
		s := open(b)
		seed(b, s.DB(), users, 10, 1000, 1)
		rules := users * 10
		settle(b, s)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
		quote := func(i int) stockalert.Quote {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			price := 100 + rng.Float64()*50
			return stockalert.Quote{Ticker: stockalert.Ticker(ticker(i % 1000)), Price: price, Currency: "USD",
				PreviousClose: price * (0.96 + rng.Float64()*0.08), Time: t0.Add(time.Duration(i) * time.Second)}
		}
		for i := range 20 { // the baseline finds what the set-based statement finds
			set, err := s.FiringRules(ctx, quote(i))
			if err != nil {
				b.Fatal(err)
			}
			one, err := s.FiringRulesOneByOne(ctx, quote(i))
			if err != nil {
				b.Fatal(err)
			}
			if ids(set) != ids(one) {
				b.Fatalf("%s: set-based %s, one by one %s", quote(i).Ticker, ids(set), ids(one))
			}
		}
		evaluate := command.NewEvaluatePriceHandler(s, stockalert.TopicAlerts, nil, nil)
		b.Run("evaluate", func(b *testing.B) {
			before := storetest.Count(b, s.DB(), "alerts", "")
			perOp(b, func(i int) {
				if err := evaluate.Handle(ctx, command.EvaluatePrice{Event: stockalert.NewPriceEvent(fmt.Sprintf("bench-%d", i), quote(i))}); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(float64(storetest.Count(b, s.DB(), "alerts", "")-before)/float64(b.N), "alerts/op")
		})
		for _, find := range []struct {
			name string
			fn   func(context.Context, stockalert.Quote) ([]stockalert.OwnedRule, error)
		}{{"find/set-based", s.FiringRules}, {"find/per-rule", s.FiringRulesOneByOne}} {
			b.Run(find.name, func(b *testing.B) {
				found := 0
				perOp(b, func(i int) {
					rules, err := find.fn(ctx, quote(i))
					if err != nil {
						b.Fatal(err)
					}
					found += len(rules)
				})
				b.ReportMetric(float64(found)/float64(b.N), "rules/op")
			})
		}
		b.Run("floor/round-trip", func(b *testing.B) {
			perOp(b, func(int) {
				var one int
				if err := s.DB().QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("floor/one-rule", func(b *testing.B) {
			perOp(b, func(i int) {
				if _, _, err := s.OneRule(ctx, int64(1+i*7919%rules)); err != nil {
					b.Fatal(err)
				}
			})
		})
	})
}

// perOp runs op under b.Loop and reports the p50 and p99 of its durations in milliseconds.
func perOp(b *testing.B, op func(i int)) {
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		op(i)
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	pct := func(p float64) float64 {
		return float64(took[min(len(took)-1, int(p*float64(len(took))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

func ids(rules []stockalert.OwnedRule) string {
	out := make([]int64, len(rules))
	for i, r := range rules {
		out[i] = r.ID
	}
	slices.Sort(out)
	return fmt.Sprint(out)
}

// settle copies SQLite's write-ahead log into the database file after a bulk seed, so that the
// measured events do not pay for checkpointing the seed's hundreds of megabytes; a running store
// checkpoints about a second of writes at a time (sqlite.CheckpointInterval). Nothing on MySQL.
func settle(b *testing.B, s *sqlstore.Store) {
	b.Helper()
	if s.Dialect() != sqlite.Dialect.Name {
		return
	}
	if _, err := s.DB().ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatalf("checkpoint the seed: %v", err)
	}
}

// BenchmarkHotTicker: one ticker (HOT) with 100,000 "above" rules, one per user, levels spread evenly
// over [100, 200); each op is one price event at 150, which breaches half of them (50,000 alerts: state
// updates, history rows and outbox messages, one transaction). Before each op, untimed, an event at 99
// re-arms them all. It reports the evaluation's seconds and the alerts raised per second.
func BenchmarkHotTicker(b *testing.B) {
	const rules = 100_000
	for _, st := range benchStores() {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			seedHot(b, s, rules)
			settle(b, s)
			ctx := context.Background()
			evaluate := command.NewEvaluatePriceHandler(s, stockalert.TopicAlerts, nil, nil)
			t0 := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
			event := func(id string, price float64, at time.Time) {
				q := stockalert.Quote{Ticker: "HOT", Price: price, Currency: "USD", Time: at}
				if err := evaluate.Handle(ctx, command.EvaluatePrice{Event: stockalert.NewPriceEvent(id, q)}); err != nil {
					b.Fatal(err)
				}
			}
			before := storetest.Count(b, s.DB(), "alerts", "")
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				event(fmt.Sprintf("calm-%d", i), 99, t0.Add(time.Duration(2*i)*time.Hour))
				b.StartTimer()
				event(fmt.Sprintf("move-%d", i), 150, t0.Add(time.Duration(2*i+1)*time.Hour))
			}
			raised := storetest.Count(b, s.DB(), "alerts", "") - before
			if raised != rules/2*b.N {
				b.Fatalf("%d alerts raised in %d events, want %d each", raised, b.N, rules/2)
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "eval-s")
			b.ReportMetric(float64(raised)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}

// seedHot gives n users one "above" rule each on ticker HOT, at levels 100 + 100·i/n, and an hourly
// notify interval shorter than the bench's two hours between moves.
func seedHot(b *testing.B, s *sqlstore.Store, n int) {
	b.Helper()
	now := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC).UnixMilli()
	insert(b, s.DB(), "users (id, email, token_hash, notify_interval_s, paused, created_at)", n, func(i int) []any {
		return []any{i + 1, fmt.Sprintf("user%d@example.com", i), strings.Repeat("0", 64), 3600, false, now}
	})
	insert(b, s.DB(), "alert_rules (user_id, ticker, kind, high_value, alert_state, created_at)", n, func(i int) []any {
		return []any{i + 1, "HOT", stockalert.KindAbove, 100 + 100*float64(i)/float64(n), "armed", now}
	})
}
