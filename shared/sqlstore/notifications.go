package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

func isNotFound(err error) bool { return errors.Is(err, stockalert.ErrNotFound) }

// DeliveryState returns the logged state of an alert, or stockalert.ErrNotFound.
func (s *Store) DeliveryState(ctx context.Context, eventID string) (stockalert.DeliveryState, error) {
	var st stockalert.DeliveryState
	err := s.q(ctx).QueryRowContext(ctx, `SELECT state FROM notifications WHERE event_id = ?`, eventID).Scan(&st)
	if err != nil {
		return "", notFound(err, "notification "+eventID)
	}
	return st, nil
}

// ClaimDelivery claims c.Alert's delivery for c.Lease from now, in one transaction that locks the
// alert's notification-log row: it logs the alert as stockalert.Sending (inserting the entry, with no
// attempt counted, when there is none) and answers claimed true when the alert was never logged, its
// last attempt failed, or a previous claim's lease has passed (that delivery died). Otherwise it changes
// nothing and answers the state found: final (Sent, Undeliverable) when the alert was handled, Sending
// when another delivery holds a live claim. Two concurrent claims of one alert never both succeed
// (MySQL: the row lock, or the primary key when both insert; SQLite: immediate transactions).
func (s *Store) ClaimDelivery(ctx context.Context, c command.DeliveryClaim) (stockalert.DeliveryState, bool, error) {
	if c.Lease <= 0 {
		return "", false, fmt.Errorf("claim delivery of %s: lease %s is not positive", c.Alert.EventID, c.Lease)
	}
	prev, claimed, err := s.claimRow(ctx, c.Lease, claimStatements{
		selectSQL:  `SELECT state, claimed_until FROM notifications WHERE event_id = ?`,
		selectArgs: []any{c.Alert.EventID},
		insert: func(until, now int64) (string, []any) {
			return `INSERT INTO notifications (event_id, user_id, ticker, alert_condition, price, threshold, chat_id,
			                                   state, attempts, claimed_until, created_at, updated_at)
			        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
				[]any{c.Alert.EventID, c.UserID, c.Alert.Ticker, c.Alert.Condition, c.Alert.Price, c.Alert.Threshold,
					nullInt(c.ChatID), stockalert.Sending, until, now, now}
		},
		update: func(until, now int64) (string, []any) {
			return `UPDATE notifications SET state = ?, claimed_until = ?, chat_id = ?, updated_at = ? WHERE event_id = ?`,
				[]any{stockalert.Sending, until, nullInt(c.ChatID), now, c.Alert.EventID}
		},
	})
	if err != nil {
		return "", false, fmt.Errorf("claim delivery of %s: %w", c.Alert.EventID, err)
	}
	return prev, claimed, nil
}

// RecordNotification inserts or updates the log entry of n.Alert.EventID, adding one attempt and ending
// its delivery claim, if any.
func (s *Store) RecordNotification(ctx context.Context, n command.RecordNotification) error {
	now := ms(s.now())
	var errText, reason any
	if n.Error != "" {
		errText = n.Error
	}
	if n.Reason != "" {
		reason = n.Reason
	}
	_, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO notifications (event_id, user_id, ticker, alert_condition, price, threshold, chat_id,
		                            state, attempts, last_error, reason, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`+
			s.d.onConflictUpdate("event_id", []string{"chat_id", "state", "last_error", "reason", "updated_at"},
				"attempts = attempts + 1", "claimed_until = NULL"),
		n.Alert.EventID, n.UserID, n.Alert.Ticker, n.Alert.Condition, n.Alert.Price, n.Alert.Threshold,
		nullInt(n.ChatID), n.State, errText, reason, now, now)
	if err != nil {
		return fmt.Errorf("record notification: %w", err)
	}
	return nil
}

// Notification is one entry of the notification log.
type Notification struct {
	EventID  string
	State    stockalert.DeliveryState
	Attempts int
	ChatID   *int64
	// Reason is why an undeliverable alert is so, in the user's words ("" otherwise).
	Reason string
}

// Notifications returns a user's notification log, oldest first (operators and tests).
func (s *Store) Notifications(ctx context.Context, email stockalert.Email) ([]Notification, error) {
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT n.event_id, n.state, n.attempts, n.chat_id, COALESCE(n.reason, '') FROM notifications n JOIN users u ON u.id = n.user_id
		  WHERE u.email = ? ORDER BY n.created_at, n.event_id`, email)
	if err != nil {
		return nil, fmt.Errorf("notification log: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var (
			n    Notification
			chat sql.NullInt64
		)
		if err := rows.Scan(&n.EventID, &n.State, &n.Attempts, &chat, &n.Reason); err != nil {
			return nil, fmt.Errorf("scan notification: %w", err)
		}
		n.ChatID = int64Ptr(chat)
		out = append(out, n)
	}
	return out, rows.Err()
}
