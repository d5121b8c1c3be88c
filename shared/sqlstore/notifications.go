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

// RecordNotification inserts or updates the log entry of n.Alert.EventID, adding one attempt.
func (s *Store) RecordNotification(ctx context.Context, n command.RecordNotification) error {
	now := ms(s.now())
	var errText any
	if n.Error != "" {
		errText = n.Error
	}
	_, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO notifications (event_id, user_id, ticker, alert_condition, price, threshold, chat_id,
		                            state, attempts, last_error, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`+
			s.d.onConflictUpdate("event_id", []string{"chat_id", "state", "last_error", "updated_at"},
				"attempts = attempts + 1"),
		n.Alert.EventID, n.UserID, n.Alert.Ticker, n.Alert.Condition, n.Alert.Price, n.Alert.Threshold,
		nullInt(n.ChatID), n.State, errText, now, now)
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
}

// Notifications returns a user's notification log, oldest first (operators and tests).
func (s *Store) Notifications(ctx context.Context, email stockalert.Email) ([]Notification, error) {
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT n.event_id, n.state, n.attempts, n.chat_id FROM notifications n JOIN users u ON u.id = n.user_id
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
		if err := rows.Scan(&n.EventID, &n.State, &n.Attempts, &chat); err != nil {
			return nil, fmt.Errorf("scan notification: %w", err)
		}
		n.ChatID = int64Ptr(chat)
		out = append(out, n)
	}
	return out, rows.Err()
}
