package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// AddRule stores r (Normalized) for its user, armed, writing the columns each kind fires on (see
// schema 00006), and returns its id.
func (s *Store) AddRule(ctx context.Context, r stockalert.Rule) (int64, error) {
	r = r.Normalized()
	high, low := r.Bounds()
	up, down := r.MoveLevels()
	var rangeTicker, direction, note sql.NullString
	if r.Kind == stockalert.KindRange {
		rangeTicker = sql.NullString{String: string(r.Ticker), Valid: true}
	}
	if r.Direction != "" {
		direction = sql.NullString{String: string(r.Direction), Valid: true}
	}
	if r.Note != "" {
		note = sql.NullString{String: r.Note, Valid: true}
	}
	var percent, reference sql.NullFloat64
	if r.Percent != 0 {
		percent = sql.NullFloat64{Float64: r.Percent, Valid: true}
	}
	if r.Reference != 0 {
		reference = sql.NullFloat64{Float64: r.Reference, Valid: true}
	}
	var expires sql.NullInt64
	if !r.ExpiresAt.IsZero() {
		expires = sql.NullInt64{Int64: ms(r.ExpiresAt), Valid: true}
	}
	res, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO alert_rules (user_id, ticker, kind, range_ticker, high_value, low_value, percent, direction,
		                          reference, move_up_level, move_down_level, repeat_mode, expires_at, note,
		                          alert_state, created_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'armed', ?)`,
		r.UserID, r.Ticker, r.Kind, rangeTicker, nullFloat(high), nullFloat(low), percent, direction,
		reference, nullFloat(up), nullFloat(down), r.Repeat, expires, note, ms(s.now()))
	if err != nil {
		return 0, fmt.Errorf("add a %s rule on %s: %w", r.Kind, r.Ticker, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("add a %s rule on %s: %w", r.Kind, r.Ticker, err)
	}
	return id, nil
}
