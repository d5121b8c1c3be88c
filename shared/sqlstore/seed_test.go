package sqlstore_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// seed fills a store directly with users × subsPerUser subscriptions spread over tickers tickers (each
// with a high bound in [100, 200) and a low bound in [50, 100), some left open) and pricesPerTicker
// prices per ticker, in multi-row statements.
func seed(tb testing.TB, db *sql.DB, users, subsPerUser, tickers, pricesPerTicker int) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC).UnixMilli()
	insert(tb, db, "users (id, email, token_hash, notify_interval_s, paused, created_at)", users, func(i int) []any {
		return []any{i + 1, fmt.Sprintf("user%d@example.com", i), strings.Repeat("0", 64), 3600, false, now}
	})
	insert(tb, db, "alert_rules (user_id, ticker, kind, range_ticker, high_value, low_value, alert_state, created_at)", users*subsPerUser, func(i int) []any {
		var high, low any
		if rng.IntN(10) > 0 {
			high = 100 + rng.Float64()*100
		}
		if rng.IntN(10) > 0 {
			low = 50 + rng.Float64()*50
		}
		// user u watches tickers u, u+users/…: distinct tickers per user, all tickers evenly covered
		u := i / subsPerUser
		t := ticker((u + (i%subsPerUser)*(tickers/subsPerUser)) % tickers)
		return []any{u + 1, t, "range", t, high, low, "armed", now}
	})
	insert(tb, db, "prices (ticker, quoted_at, price, currency, recorded_at)", tickers*pricesPerTicker, func(i int) []any {
		return []any{ticker(i % tickers), now - int64(i/tickers)*60_000, 100 + rng.Float64()*50, "USD", now}
	})
}

func ticker(i int) string { return fmt.Sprintf("T%04d", i) }

func insert(tb testing.TB, db *sql.DB, into string, rows int, row func(i int) []any) {
	tb.Helper()
	cols := strings.Count(into, ",") + 1
	const chunk = 500
	for start := 0; start < rows; start += chunk {
		n := min(chunk, rows-start)
		var args []any
		for i := start; i < start+n; i++ {
			args = append(args, row(i)...)
		}
		group := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
		q := "INSERT INTO " + into + " VALUES " + strings.TrimSuffix(strings.Repeat(group+", ", n), ", ")
		if _, err := db.Exec(q, args...); err != nil {
			tb.Fatalf("seed %s: %v", into, err)
		}
	}
}
