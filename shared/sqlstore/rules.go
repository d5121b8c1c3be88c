package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// InsertRule stores a new rule (validated and normalized by the caller) for r.UserID, writing the
// columns the evaluation reads: high_value/low_value from Rule.Bounds, move_up_level/move_down_level
// from Rule.MoveLevels, range_ticker for a range. It returns the new id, or a *stockalert.ConflictError
// naming "ticker" when the rule is a range and the user already has the ticker's range.
func (s *Store) InsertRule(ctx context.Context, r stockalert.Rule) (int64, error) {
	high, low := r.Bounds()
	up, down := r.MoveLevels()
	var rangeTicker, percent, direction, reference, expires, note, channels any
	if r.Kind == stockalert.KindRange {
		rangeTicker = r.Ticker
	}
	if r.Kind == stockalert.KindChangePct || r.Kind == stockalert.KindMovePct {
		percent, direction = r.Percent, r.Direction
	}
	if r.Kind == stockalert.KindMovePct {
		reference = r.Reference
	}
	if !r.ExpiresAt.IsZero() {
		expires = ms(r.ExpiresAt)
	}
	if r.Note != "" {
		note = r.Note
	}
	if r.Channels != nil {
		channels = stockalert.JoinChannels(r.Channels)
	}
	res, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO alert_rules (user_id, ticker, kind, range_ticker, high_value, low_value, percent, direction,
		                          reference, move_up_level, move_down_level, repeat_mode, expires_at, note,
		                          alert_state, created_at, channels)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'armed', ?, ?)`,
		r.UserID, r.Ticker, r.Kind, rangeTicker, nullFloat(high), nullFloat(low), percent, direction,
		reference, nullFloat(up), nullFloat(down), r.Repeat, expires, note, ms(r.CreatedAt), channels)
	if err != nil {
		if s.d.IsDuplicate(err) {
			return 0, &stockalert.ConflictError{Field: "ticker",
				Reason: "the user already has a range on " + string(r.Ticker) + ": change it with PUT /users/{email}/tickers/{ticker}"}
		}
		return 0, fmt.Errorf("insert rule: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("rule id: %w", err)
	}
	return id, nil
}

// DeleteRule removes the user's rule id, or returns a stockalert.ErrNotFound when the user has no
// such rule (someone else's, or gone).
func (s *Store) DeleteRule(ctx context.Context, userID, id int64) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM alert_rules WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return fmt.Errorf("delete rule: %w", err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return stockalert.NotFound("no such rule")
	}
	return nil
}

// SnoozeRule snoozes the user's rule id until until (alert_rules.snoozed_until) unless it is snoozed
// at now already, and returns the time it is snoozed until: until, or the snooze already running (so
// that a repeated request changes nothing and answers the same). It returns a stockalert.ErrNotFound
// when the user has no such rule (someone else's, or gone). Call it in a transaction.
func (s *Store) SnoozeRule(ctx context.Context, userID, id int64, now, until time.Time) (time.Time, error) {
	var snoozed sql.NullInt64
	err := s.q(ctx).QueryRowContext(ctx, `SELECT snoozed_until FROM alert_rules WHERE id = ? AND user_id = ?`+s.d.ForUpdate,
		id, userID).Scan(&snoozed)
	if err != nil {
		return time.Time{}, fmt.Errorf("snooze rule: %w", notFound(err, "such rule"))
	}
	if current := fromMS(snoozed); current.After(now) {
		return current, nil
	}
	if _, err := s.q(ctx).ExecContext(ctx, `UPDATE alert_rules SET snoozed_until = ? WHERE id = ?`, ms(until), id); err != nil {
		return time.Time{}, fmt.Errorf("snooze rule: %w", err)
	}
	return until.Truncate(time.Millisecond), nil
}

// DeleteRulesOn removes every rule of the user on ticker (its range included) and returns how many
// it removed.
func (s *Store) DeleteRulesOn(ctx context.Context, userID int64, ticker stockalert.Ticker) (int64, error) {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM alert_rules WHERE user_id = ? AND ticker = ?`, userID, ticker)
	if err != nil {
		return 0, fmt.Errorf("delete rules on %s: %w", ticker, err)
	}
	return rowsAffected(res)
}

// CountRules returns how many rules the user has, of every kind and state.
func (s *Store) CountRules(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := s.q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM alert_rules WHERE user_id = ?`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rules: %w", err)
	}
	return n, nil
}

// userRulesSQL reads one user's rules along alert_rules_user (user_id, ticker).
const userRulesSQL = `SELECT ` + ruleColumns + ` FROM alert_rules s JOIN users u ON u.id = s.user_id WHERE u.email = ?`

// UserRules returns the rules of the user with that e-mail, on ticker only unless it is empty, ordered
// by ticker then id (creation order); none for an unknown e-mail.
func (s *Store) UserRules(ctx context.Context, email stockalert.Email, ticker stockalert.Ticker) ([]stockalert.Rule, error) {
	q, args := userRulesSQL, []any{email}
	if ticker != "" {
		q, args = q+` AND s.ticker = ?`, append(args, ticker)
	}
	rows, err := s.q(ctx).QueryContext(ctx, q+` ORDER BY s.ticker, s.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	defer rows.Close()
	var out []stockalert.Rule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, fmt.Errorf("scan rule: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LiveTickers returns, once each and in order, the tickers on which the user with that e-mail has a
// live rule: not done (a once rule that fired) and not expired at the store's clock.
func (s *Store) LiveTickers(ctx context.Context, email stockalert.Email) ([]stockalert.Ticker, error) {
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT DISTINCT s.ticker FROM alert_rules s JOIN users u ON u.id = s.user_id
		  WHERE u.email = ? AND s.done_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > ?)
		  ORDER BY s.ticker`, email, ms(s.now()))
	if err != nil {
		return nil, fmt.Errorf("live tickers: %w", err)
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
