package sqlstore

import (
	"context"
	"fmt"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// The delivery log of the channels beside Telegram (table deliveries): one entry per (alert, channel),
// claimed and recorded the way the notification log is for Telegram (ClaimDelivery, RecordNotification).

// ChannelDeliveryState returns the logged state of alert eventID's delivery over channel, or
// stockalert.ErrNotFound when none was logged.
func (s *Store) ChannelDeliveryState(ctx context.Context, eventID string, channel stockalert.Channel) (stockalert.DeliveryState, error) {
	var st stockalert.DeliveryState
	err := s.q(ctx).QueryRowContext(ctx, `SELECT state FROM deliveries WHERE event_id = ? AND channel = ?`, eventID, channel).Scan(&st)
	if err != nil {
		return "", notFound(err, "delivery of "+eventID+" over "+string(channel))
	}
	return st, nil
}

// ClaimChannelDelivery claims the delivery of c.EventID over c.Channel for c.Lease from now, in one
// transaction that locks its log row: it logs the delivery as stockalert.Sending (inserting the entry,
// with no attempt counted, when there is none) and answers claimed true when it was never logged, its
// last attempt failed, or a previous claim's lease has passed. Otherwise it changes nothing and answers
// the state found: final (Sent, Undeliverable) when the delivery was handled, Sending when another
// delivery holds a live claim. Two concurrent claims never both succeed (as ClaimDelivery).
func (s *Store) ClaimChannelDelivery(ctx context.Context, c command.ChannelClaim) (stockalert.DeliveryState, bool, error) {
	if c.Lease <= 0 {
		return "", false, fmt.Errorf("claim the %s delivery of %s: lease %s is not positive", c.Channel, c.EventID, c.Lease)
	}
	prev, claimed, err := s.claimRow(ctx, c.Lease, claimStatements{
		selectSQL:  `SELECT state, claimed_until FROM deliveries WHERE event_id = ? AND channel = ?`,
		selectArgs: []any{c.EventID, c.Channel},
		insert: func(until, now int64) (string, []any) {
			return `INSERT INTO deliveries (event_id, channel, user_id, state, attempts, claimed_until, created_at, updated_at)
			        VALUES (?, ?, ?, ?, 0, ?, ?, ?)`,
				[]any{c.EventID, c.Channel, c.UserID, stockalert.Sending, until, now, now}
		},
		update: func(until, now int64) (string, []any) {
			return `UPDATE deliveries SET state = ?, claimed_until = ?, updated_at = ? WHERE event_id = ? AND channel = ?`,
				[]any{stockalert.Sending, until, now, c.EventID, c.Channel}
		},
	})
	if err != nil {
		return "", false, fmt.Errorf("claim the %s delivery of %s: %w", c.Channel, c.EventID, err)
	}
	return prev, claimed, nil
}

// RecordChannelDelivery inserts or updates the log entry of o.EventID over o.Channel, adding one
// attempt and ending its claim, if any.
func (s *Store) RecordChannelDelivery(ctx context.Context, o command.ChannelOutcome) error {
	now := ms(s.now())
	var errText, reason any
	if o.Error != "" {
		errText = o.Error
	}
	if o.Reason != "" {
		reason = o.Reason
	}
	_, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO deliveries (event_id, channel, user_id, state, attempts, last_error, reason, created_at, updated_at)
		 VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)`+
			s.d.onConflictUpdate("event_id, channel", []string{"state", "last_error", "reason", "updated_at"},
				"attempts = attempts + 1", "claimed_until = NULL"),
		o.EventID, o.Channel, o.UserID, o.State, errText, reason, now, now)
	if err != nil {
		return fmt.Errorf("record the %s delivery of %s as %s: %w", o.Channel, o.EventID, o.State, err)
	}
	return nil
}

// ChannelDelivery is one entry of the delivery log (operators and tests).
type ChannelDelivery struct {
	EventID  string
	Channel  stockalert.Channel
	State    stockalert.DeliveryState
	Attempts int
	Error    string
	Reason   string
}

// ChannelDeliveries returns a user's delivery log over the channels beside Telegram, oldest first.
func (s *Store) ChannelDeliveries(ctx context.Context, email stockalert.Email) ([]ChannelDelivery, error) {
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT d.event_id, d.channel, d.state, d.attempts, COALESCE(d.last_error, ''), COALESCE(d.reason, '')
		   FROM deliveries d JOIN users u ON u.id = d.user_id
		  WHERE u.email = ? ORDER BY d.created_at, d.event_id, d.channel`, email)
	if err != nil {
		return nil, fmt.Errorf("delivery log: %w", err)
	}
	defer rows.Close()
	var out []ChannelDelivery
	for rows.Next() {
		var d ChannelDelivery
		if err := rows.Scan(&d.EventID, &d.Channel, &d.State, &d.Attempts, &d.Error, &d.Reason); err != nil {
			return nil, fmt.Errorf("scan delivery: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
