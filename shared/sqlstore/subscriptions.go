package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

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

// DistinctTickers returns every subscribed ticker once, in order.
func (s *Store) DistinctTickers(ctx context.Context) ([]stockalert.Ticker, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT DISTINCT ticker FROM alert_rules ORDER BY ticker`)
	if err != nil {
		return nil, fmt.Errorf("distinct tickers: %w", err)
	}
	defer rows.Close()
	var out []stockalert.Ticker
	for rows.Next() {
		var t stockalert.Ticker
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("scan ticker: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// breachedSQL finds the subscriptions of a ticker breached by a price in one statement: each half of
// the UNION ALL is a range scan of one (ticker, bound) index; a subscription cannot be in both halves
// because its high is above its low.
const breachedSQL = `
SELECT ` + subscriptionColumns + `, u.email, u.telegram_chat_id, u.notify_interval_s
  FROM alert_rules s JOIN users u ON u.id = s.user_id
 WHERE s.ticker = ? AND s.high_value < ? AND u.paused = 0
UNION ALL
SELECT ` + subscriptionColumns + `, u.email, u.telegram_chat_id, u.notify_interval_s
  FROM alert_rules s JOIN users u ON u.id = s.user_id
 WHERE s.ticker = ? AND s.low_value > ? AND u.paused = 0`

// BreachedSubscriptions returns the subscriptions of ticker that price breaches, of users not paused.
func (s *Store) BreachedSubscriptions(ctx context.Context, ticker stockalert.Ticker, price float64) ([]stockalert.BreachedSubscription, error) {
	rows, err := s.q(ctx).QueryContext(ctx, breachedSQL, ticker, price, ticker, price)
	if err != nil {
		return nil, fmt.Errorf("breached subscriptions: %w", err)
	}
	defer rows.Close()
	var out []stockalert.BreachedSubscription
	for rows.Next() {
		var (
			b        stockalert.BreachedSubscription
			chat     sql.NullInt64
			interval int64
		)
		sub, err := scanSubscription(rows, &b.Email, &chat, &interval)
		if err != nil {
			return nil, fmt.Errorf("scan breached subscription: %w", err)
		}
		b.Subscription = sub
		b.TelegramChatID = int64Ptr(chat)
		b.NotifyInterval = time.Duration(interval) * time.Second
		out = append(out, b)
	}
	return out, rows.Err()
}

// MarkAlerted records an alert raised on side state at at for the subscriptions.
func (s *Store) MarkAlerted(ctx context.Context, ids []int64, state stockalert.AlertState, at time.Time) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := []any{state, ms(at)}
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		_, err := s.q(ctx).ExecContext(ctx,
			`UPDATE alert_rules SET alert_state = ?, last_alerted_at = ? WHERE id IN (`+
				strings.TrimSuffix(strings.Repeat("?, ", n), ", ")+`)`, args...)
		if err != nil {
			return fmt.Errorf("mark alerted: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}

// Rearm re-arms the breached subscriptions of ticker whose range contains price.
func (s *Store) Rearm(ctx context.Context, ticker stockalert.Ticker, price float64) error {
	_, err := s.q(ctx).ExecContext(ctx,
		`UPDATE alert_rules SET alert_state = 'armed'
		  WHERE ticker = ? AND alert_state <> 'armed'
		    AND (high_value IS NULL OR high_value >= ?) AND (low_value IS NULL OR low_value <= ?)`,
		ticker, price, price)
	if err != nil {
		return fmt.Errorf("re-arm: %w", err)
	}
	return nil
}

// MarkEvaluated records, in the caller's transaction, that ticker's price quoted at at is being
// evaluated, and reports whether it is the newest quote evaluated for the ticker so far (a quote of the
// same time counts: a redelivered event is evaluated again, idempotently). For an older quote it returns
// false and records nothing; the caller then leaves every subscription as it is. The ticker's row is
// locked until the transaction ends, so concurrent evaluations of one ticker take turns.
func (s *Store) MarkEvaluated(ctx context.Context, ticker stockalert.Ticker, at time.Time) (newest bool, err error) {
	q := s.q(ctx)
	if _, err := q.ExecContext(ctx, `INSERT INTO price_evaluations (ticker, evaluated_at) VALUES (?, ?)`+
		s.d.onConflictDoNothing("ticker"), ticker, ms(at)); err != nil {
		return false, fmt.Errorf("record the evaluation of %s: %w", ticker, err)
	}
	var last int64
	if err := q.QueryRowContext(ctx, `SELECT evaluated_at FROM price_evaluations WHERE ticker = ?`+s.d.ForUpdate,
		ticker).Scan(&last); err != nil {
		return false, fmt.Errorf("read the last evaluation of %s: %w", ticker, err)
	}
	switch {
	case ms(at) < last:
		return false, nil
	case ms(at) > last:
		if _, err := q.ExecContext(ctx, `UPDATE price_evaluations SET evaluated_at = ? WHERE ticker = ?`, ms(at), ticker); err != nil {
			return false, fmt.Errorf("record the evaluation of %s: %w", ticker, err)
		}
	}
	return true, nil
}
