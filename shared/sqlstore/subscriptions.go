package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/stockalert/stockalert/shared/stockalert"
)

const subscriptionColumns = "s.id, s.user_id, s.ticker, s.high_value, s.low_value, s.alert_state, s.last_alerted_at"

func scanSubscription(row interface{ Scan(...any) error }, extra ...any) (stockalert.Subscription, error) {
	var (
		sub       stockalert.Subscription
		high, low sql.NullFloat64
		last      sql.NullInt64
	)
	dest := append([]any{&sub.ID, &sub.UserID, &sub.Ticker, &high, &low, &sub.State, &last}, extra...)
	if err := row.Scan(dest...); err != nil {
		return stockalert.Subscription{}, err
	}
	sub.Thresholds = stockalert.Thresholds{High: floatPtr(high), Low: floatPtr(low)}
	sub.LastAlertedAt = fromMS(last)
	return sub, nil
}

// Subscriptions returns the user's subscriptions ordered by ticker.
func (s *Store) Subscriptions(ctx context.Context, userID int64) ([]stockalert.Subscription, error) {
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT `+subscriptionColumns+` FROM alert_rules s WHERE s.user_id = ? AND s.kind = 'range' ORDER BY s.ticker`, userID)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	var out []stockalert.Subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("scan subscription: %w", err)
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// PutSubscription creates or replaces the user's subscription to ticker; replacing re-arms it.
func (s *Store) PutSubscription(ctx context.Context, userID int64, ticker stockalert.Ticker, th stockalert.Thresholds) error {
	_, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO alert_rules (user_id, ticker, kind, range_ticker, high_value, low_value, alert_state, last_alerted_at, created_at)
		 VALUES (?, ?, 'range', ?, ?, ?, 'armed', NULL, ?)`+
			s.d.onConflictUpdate("user_id, range_ticker", []string{"high_value", "low_value"},
				"alert_state = 'armed'", "last_alerted_at = NULL", "breached_since = NULL"),
		userID, ticker, ticker, nullFloat(th.High), nullFloat(th.Low), ms(s.now()))
	if err != nil {
		return fmt.Errorf("put subscription: %w", err)
	}
	return nil
}

// DeleteSubscription removes the user's subscription to ticker, or returns stockalert.ErrNotFound.
func (s *Store) DeleteSubscription(ctx context.Context, userID int64, ticker stockalert.Ticker) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM alert_rules WHERE user_id = ? AND range_ticker = ?`, userID, ticker)
	if err != nil {
		return fmt.Errorf("delete subscription: %w", err)
	}
	return expectOne(res, "subscription to "+string(ticker))
}
