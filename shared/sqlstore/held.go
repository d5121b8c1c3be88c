package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// UsersWithHeldAlerts returns each user who has alerts in the notification log with state held
// (raised during their quiet hours), with the time the latest of them was logged, by user id.
func (s *Store) UsersWithHeldAlerts(ctx context.Context) ([]command.HeldBatch, error) {
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT user_id, MAX(created_at) FROM notifications WHERE state = ? GROUP BY user_id ORDER BY user_id`, stockalert.Held)
	if err != nil {
		return nil, fmt.Errorf("list users with held alerts: %w", err)
	}
	found, err := scanHeldBatches(rows)
	if err != nil {
		return nil, err
	}
	out := make([]command.HeldBatch, 0, len(found))
	for _, b := range found {
		u, err := scanUser(s.q(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, b.user))
		if errors.Is(err, sql.ErrNoRows) {
			continue // deleted meanwhile: its log went with it
		}
		if err != nil {
			return nil, fmt.Errorf("read user %d: %w", b.user, err)
		}
		out = append(out, command.HeldBatch{User: u, Latest: time.UnixMilli(b.latest).UTC()})
	}
	return out, nil
}

type heldBatch struct{ user, latest int64 }

// scanHeldBatches reads (user_id, latest) rows and closes them.
func scanHeldBatches(rows *sql.Rows) ([]heldBatch, error) {
	defer rows.Close()
	var found []heldBatch
	for rows.Next() {
		var b heldBatch
		if err := rows.Scan(&b.user, &b.latest); err != nil {
			return nil, fmt.Errorf("scan user with held alerts: %w", err)
		}
		found = append(found, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users with held alerts: %w", err)
	}
	return found, nil
}

// HeldAlerts returns user userID's held alerts logged up to upTo (inclusive), oldest first, with what
// the alert log (table alerts) knows of them: kind, currency, percent and the time raised (the log
// entry's time when the alert log has no row).
func (s *Store) HeldAlerts(ctx context.Context, userID int64, upTo time.Time) ([]stockalert.AlertEvent, error) {
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT n.event_id, n.ticker, COALESCE(a.kind, ''), n.alert_condition, n.price, COALESCE(a.currency, ''),
		        n.threshold, a.percent, COALESCE(a.raised_at, n.created_at)
		   FROM notifications n LEFT JOIN alerts a ON a.event_id = n.event_id
		  WHERE n.state = ? AND n.user_id = ? AND n.created_at <= ?
		  ORDER BY n.created_at, n.event_id`, stockalert.Held, userID, ms(upTo))
	if err != nil {
		return nil, fmt.Errorf("held alerts of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []stockalert.AlertEvent
	for rows.Next() {
		var (
			ev      stockalert.AlertEvent
			percent sql.NullFloat64
			at      int64
		)
		if err := rows.Scan(&ev.EventID, &ev.Ticker, &ev.Kind, &ev.Condition, &ev.Price, &ev.Currency, &ev.Threshold, &percent, &at); err != nil {
			return nil, fmt.Errorf("scan held alert: %w", err)
		}
		ev.Percent, ev.Time = percent.Float64, time.UnixMilli(at).UTC()
		out = append(out, ev)
	}
	return out, rows.Err()
}

// ResolveHeld gives user userID's held alerts logged up to upTo (inclusive) the state of their
// summary (sent, or undeliverable) and returns how many it changed.
func (s *Store) ResolveHeld(ctx context.Context, userID int64, upTo time.Time, state stockalert.DeliveryState) (int64, error) {
	res, err := s.q(ctx).ExecContext(ctx,
		`UPDATE notifications SET state = ?, updated_at = ? WHERE state = ? AND user_id = ? AND created_at <= ?`,
		state, ms(s.now()), stockalert.Held, userID, ms(upTo))
	if err != nil {
		return 0, fmt.Errorf("resolve held alerts of user %d: %w", userID, err)
	}
	return rowsAffected(res)
}
