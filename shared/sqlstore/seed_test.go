package sqlstore_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// seed fills a store directly with users × rulesPerUser alert rules spread over tickers tickers and
// pricesPerTicker prices per ticker (in [100, 150), with a previous close in [100, 150)), in multi-row
// statements. Each user's rules are on distinct tickers, and all tickers are evenly covered. The
// kinds are mixed, a fifth each: range (a high bound in [100, 200) and a low one in [50, 100), each
// left open one time in ten), above (a level in [100, 200)), below (in [50, 100)), change_pct (0.5 to
// 5 %, any direction) and move_pct (1 to 20 % from a reference in [100, 150), any direction). The
// columns each kind fires on come from the domain (Rule.Bounds, Rule.MoveLevels), as the store writes
// them.
func seed(tb testing.TB, db *sql.DB, users, rulesPerUser, tickers, pricesPerTicker int) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC).UnixMilli()
	insert(tb, db, "users (id, email, token_hash, notify_interval_s, paused, created_at)", users, func(i int) []any {
		return []any{i + 1, fmt.Sprintf("user%d@example.com", i), strings.Repeat("0", 64), 3600, false, now}
	})
	directions := []stockalert.Direction{stockalert.DirectionUp, stockalert.DirectionDown, stockalert.DirectionEither}
	insert(tb, db, "alert_rules (user_id, ticker, kind, range_ticker, high_value, low_value, percent, direction, "+
		"reference, move_up_level, move_down_level, alert_state, created_at)", users*rulesPerUser, func(i int) []any {
		u := i / rulesPerUser
		t := stockalert.Ticker(ticker((u + (i%rulesPerUser)*(tickers/rulesPerUser)) % tickers))
		r := stockalert.Rule{Ticker: t}
		switch rng.IntN(5) {
		case 0:
			r.Kind = stockalert.KindRange
			if rng.IntN(10) > 0 {
				r.Thresholds.High = stockalert.Float(100 + rng.Float64()*100)
			}
			if rng.IntN(10) > 0 {
				r.Thresholds.Low = stockalert.Float(50 + rng.Float64()*50)
			}
		case 1:
			r.Kind, r.Level = stockalert.KindAbove, 100+rng.Float64()*100
		case 2:
			r.Kind, r.Level = stockalert.KindBelow, 50+rng.Float64()*50
		case 3:
			r.Kind, r.Percent, r.Direction = stockalert.KindChangePct, 0.5+rng.Float64()*4.5, directions[rng.IntN(3)]
		default:
			r.Kind, r.Percent, r.Direction = stockalert.KindMovePct, 1+rng.Float64()*19, directions[rng.IntN(3)]
			r.Reference = 100 + rng.Float64()*50
		}
		high, low := r.Bounds()
		up, down := r.MoveLevels()
		var rangeTicker, percent, direction, reference any
		if r.Kind == stockalert.KindRange {
			rangeTicker = t
		}
		if r.Percent != 0 {
			percent, direction = r.Percent, r.Direction
		}
		if r.Reference != 0 {
			reference = r.Reference
		}
		return []any{u + 1, t, r.Kind, rangeTicker, orNull(high), orNull(low), percent, direction, reference,
			orNull(up), orNull(down), "armed", now}
	})
	insert(tb, db, "prices (ticker, quoted_at, price, currency, recorded_at, previous_close)", tickers*pricesPerTicker, func(i int) []any {
		return []any{ticker(i % tickers), now - int64(i/tickers)*60_000, 100 + rng.Float64()*50, "USD", now, 100 + rng.Float64()*50}
	})
}

func orNull(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
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
