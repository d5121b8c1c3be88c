package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
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
	return out, rows.Err()
}
