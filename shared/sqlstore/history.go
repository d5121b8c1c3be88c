package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// alertHistorySQL reads one user's alerts newest first along alerts_user (user_id, raised_at), each
// with its notification log entry (primary key event_id).
const alertHistorySQL = `
SELECT a.event_id, a.rule_id, a.ticker, a.kind, a.alert_condition, a.price, a.currency, a.threshold,
       a.percent, a.direction, a.day_change_pct, a.rule_done, a.raised_at, n.state, n.reason
  FROM alerts a JOIN users u ON u.id = a.user_id
  LEFT JOIN notifications n ON n.event_id = a.event_id
 WHERE u.email = ?`

// AlertHistory returns at most limit alerts of the user with that e-mail (on ticker only unless it is
// empty), newest first, each with its notification log state and last error; none for an unknown
// e-mail.
func (s *Store) AlertHistory(ctx context.Context, email stockalert.Email, ticker stockalert.Ticker, limit int) ([]query.HistoryEntry, error) {
	q, args := alertHistorySQL, []any{email}
	if ticker != "" {
		q, args = q+` AND a.ticker = ?`, append(args, ticker)
	}
	rows, err := s.q(ctx).QueryContext(ctx, q+` ORDER BY a.raised_at DESC, a.event_id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("alert history: %w", err)
	}
	defer rows.Close()
	var out []query.HistoryEntry
	for rows.Next() {
		var (
			e                  query.HistoryEntry
			percent, dayChange sql.NullFloat64
			direction          sql.NullString
			state, reason      sql.NullString
			raised             int64
		)
		a := &e.Alert
		err := rows.Scan(&a.EventID, &a.RuleID, &a.Ticker, &a.Kind, &a.Condition, &a.Price, &a.Currency, &a.Threshold,
			&percent, &direction, &dayChange, &a.RuleDone, &raised, &state, &reason)
		if err != nil {
			return nil, fmt.Errorf("scan alert: %w", err)
		}
		a.Percent, a.Direction, a.DayChangePercent = percent.Float64, stockalert.Direction(direction.String), floatPtr(dayChange)
		a.RaisedAt = time.UnixMilli(raised).UTC()
		e.State, e.Reason = stockalert.DeliveryState(state.String), reason.String
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alert history: %w", err)
	}
	if err := s.channelHistory(ctx, email, out); err != nil {
		return nil, err
	}
	return out, nil
}

// channelHistory adds to entries their deliveries over the channels beside Telegram (the delivery log),
// in stockalert.Channels order.
func (s *Store) channelHistory(ctx context.Context, email stockalert.Email, entries []query.HistoryEntry) error {
	if len(entries) == 0 {
		return nil
	}
	at := make(map[string]int, len(entries))
	args := []any{email}
	for i, e := range entries {
		at[e.Alert.EventID] = i
		args = append(args, e.Alert.EventID)
	}
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT d.event_id, d.channel, d.state, COALESCE(d.reason, '')
		   FROM deliveries d JOIN users u ON u.id = d.user_id
		  WHERE u.email = ? AND d.event_id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(entries)), ", ")+`)`, args...)
	if err != nil {
		return fmt.Errorf("alert history: channel deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			c  query.ChannelEntry
		)
		if err := rows.Scan(&id, &c.Channel, &c.State, &c.Reason); err != nil {
			return fmt.Errorf("scan delivery: %w", err)
		}
		if i, ok := at[id]; ok {
			entries[i].Channels = append(entries[i].Channels, c)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("alert history: channel deliveries: %w", err)
	}
	for i := range entries {
		slices.SortFunc(entries[i].Channels, func(a, b query.ChannelEntry) int {
			return slices.Index(stockalert.Channels, a.Channel) - slices.Index(stockalert.Channels, b.Channel)
		})
	}
	return nil
}
