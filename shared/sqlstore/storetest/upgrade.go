package storetest

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// UpgradeToRules checks migration 00006 on a database of the original schema: db is a new, empty
// database of dialect d, and open opens the store on it (migrating it to the latest version). Before,
// at version 5, it writes users with subscriptions (one armed, one breached above); after, each
// subscription must be its user's range rule with the same id, bounds and state (the breach dated
// from its last alert), the original API's reads see it, and the evaluation fires it. Then it
// migrates down to version 5 and up again, which must keep the ranges.
func UpgradeToRules(t *testing.T, db *sql.DB, d sqlstore.Dialect, open func(t *testing.T) *sqlstore.Store) {
	t.Helper()
	ctx := context.Background()
	p, err := goose.NewProvider(goose.Dialect(d.Name), db, d.Migrations)
	require.NoError(t, err)
	_, err = p.UpTo(ctx, 5)
	require.NoError(t, err)
	at := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC).UnixMilli()
	_, err = db.ExecContext(ctx, `INSERT INTO users (id, email, token_hash, notify_interval_s, paused, created_at)
		VALUES (7, 'old@example.com', ?, 3600, 0, 1)`, strings.Repeat("0", 64))
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `INSERT INTO subscriptions (id, user_id, ticker, high_value, low_value, alert_state, last_alerted_at, created_at)
		VALUES (41, 7, 'AAPL', 200, 100, 'armed', NULL, 1), (42, 7, 'MSFT', 400, NULL, 'above', ?, 1)`, at)
	require.NoError(t, err)
	s := open(t)
	subs, err := s.Subscriptions(ctx, 7)
	require.NoError(t, err)
	require.Len(t, subs, 2)
	require.Equal(t, int64(41), subs[0].ID)
	require.Equal(t, stockalert.Thresholds{High: stockalert.Float(200), Low: stockalert.Float(100)}, subs[0].Thresholds)
	require.Equal(t, stockalert.BreachedAbove, subs[1].State)
	var kind string
	var since int64
	require.NoError(t, db.QueryRowContext(ctx, `SELECT kind, breached_since FROM alert_rules WHERE id = 42`).Scan(&kind, &since))
	require.Equal(t, "range", kind)
	require.Equal(t, at, since, "a breach dates from its last alert")
	fired, err := s.FiringRules(ctx, stockalert.Quote{Ticker: "AAPL", Price: 250, Time: time.UnixMilli(at)})
	require.NoError(t, err)
	require.Len(t, fired, 1)
	require.Equal(t, int64(41), fired[0].ID)
	require.Equal(t, stockalert.KindRange, fired[0].Kind)
	// A second range on a ticker is refused by the schema (one range per user and ticker).
	_, err = db.ExecContext(ctx, `INSERT INTO alert_rules (user_id, ticker, kind, range_ticker, alert_state, created_at) VALUES (7, 'AAPL', 'range', 'AAPL', 'armed', 1)`)
	require.Error(t, err)
	require.True(t, d.IsDuplicate(err), "%v", err)

	_, err = p.DownTo(ctx, 5)
	require.NoError(t, err)
	require.Equal(t, 2, Count(t, db, "subscriptions", "user_id = 7"))
	_, err = p.Up(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, Count(t, db, "alert_rules", "user_id = 7 AND kind = 'range'"))
}
