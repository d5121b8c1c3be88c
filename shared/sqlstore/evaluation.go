package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// ruleColumns are the columns scanRule reads, from alert_rules aliased s.
const ruleColumns = `s.id, s.user_id, s.ticker, s.kind, s.high_value, s.low_value, s.percent, s.direction, s.reference,
       s.repeat_mode, s.expires_at, s.note, s.alert_state, s.breached_since, s.last_alerted_at, s.done_at, s.created_at,
       s.snoozed_until, s.channels`

// scanRule reads ruleColumns (then extra) into a Rule: above keeps its level in high_value, below in
// low_value, a range its Thresholds.
func scanRule(row interface{ Scan(...any) error }, extra ...any) (stockalert.Rule, error) {
	var (
		r                                            stockalert.Rule
		high, low, percent, reference                sql.NullFloat64
		direction, note, channels                    sql.NullString
		expires, since, last, done, created, snoozed sql.NullInt64
	)
	dest := append([]any{&r.ID, &r.UserID, &r.Ticker, &r.Kind, &high, &low, &percent, &direction, &reference,
		&r.Repeat, &expires, &note, &r.State, &since, &last, &done, &created, &snoozed, &channels}, extra...)
	if err := row.Scan(dest...); err != nil {
		return stockalert.Rule{}, err
	}
	switch r.Kind {
	case stockalert.KindRange:
		r.Thresholds = stockalert.Thresholds{High: floatPtr(high), Low: floatPtr(low)}
	case stockalert.KindAbove:
		r.Level = high.Float64
	case stockalert.KindBelow:
		r.Level = low.Float64
	}
	r.Percent, r.Reference = percent.Float64, reference.Float64
	r.Direction, r.Note = stockalert.Direction(direction.String), note.String
	r.ExpiresAt, r.BreachedSince, r.LastAlertedAt, r.DoneAt, r.CreatedAt =
		fromMS(expires), fromMS(since), fromMS(last), fromMS(done), fromMS(created)
	r.SnoozedUntil = fromMS(snoozed)
	r.Channels = stockalert.SplitChannels(channels.String)
	return r, nil
}

// DistinctTickers returns, once each and in order, every ticker with a live rule: one that is not
// done and has not expired (the collector prices these).
func (s *Store) DistinctTickers(ctx context.Context) ([]stockalert.Ticker, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT DISTINCT ticker FROM alert_rules
		WHERE done_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY ticker`, ms(s.now()))
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

// The statements that find the rules a price fires: the live rules of a ticker (not done, not expired
// and not snoozed past the quote's time) of users who are not paused, whose condition column compares
// with the price (or the day change) as one of five conditions says, each a range of its own index:
// range, above and below on (ticker, high_value) and (ticker, low_value), strictly; move_pct on (ticker,
// move_up_level) and (ticker, move_down_level), inclusively; change_pct on (ticker, kind, percent), with
// the day change's size and side as arguments (the "WithChange" forms, used when the day change is
// known and not zero). A rule meets at most one condition for a given price: a range's high is above
// its low, a move rule's up level above its down level, and the change condition takes one side.
//
// Two forms with the same rows (Dialect.MergesIndexRanges chooses):
//   - firingORSQL: one SELECT whose WHERE ORs the conditions; MariaDB reads the union of the five
//     ranges in one index merge (sort_union), opening alert_rules once. Its arguments: the ticker, the
//     price four times (then the day change's size and side), then the quote's time twice.
//   - firingUnionSQL: a UNION ALL of one SELECT per condition, each one index range scan; SQLite's
//     planner reads an OR over the ticker's rows instead, so SQLite keeps this form. Its arguments, per
//     SELECT: the ticker, the condition's, then the quote's time twice (expiry, snooze).
//
// On MariaDB the OR form took 0.34 ms where the UNION ALL took 0.47 ms (100,000 rules, a quiet run;
// README "Scaling", Evaluation): each table reference of a statement costs the server about as much as
// reading the rows it returns.
const (
	firingSelect = `SELECT ` + ruleColumns + `, u.email, u.telegram_chat_id, u.notify_interval_s
  FROM alert_rules s JOIN users u ON u.id = s.user_id
 WHERE s.ticker = ? AND `
	firingLive = ` AND s.done_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > ?)
   AND (s.snoozed_until IS NULL OR s.snoozed_until <= ?) AND u.paused = 0`
	firingChange = `(s.kind = 'change_pct' AND s.percent <= ? AND s.direction IN (?, 'either'))`
)

var (
	firingConds           = []string{"s.high_value < ?", "s.low_value > ?", "s.move_up_level <= ?", "s.move_down_level >= ?"}
	firingORSQL           = firingSelect + "(" + strings.Join(firingConds, " OR ") + ")" + firingLive
	firingORWithChangeSQL = firingSelect + "(" + strings.Join(append(slices.Clone(firingConds), firingChange), " OR ") + ")" + firingLive
	firingUnionSQL        = unionOf(firingConds)
	firingUnionWithChange = unionOf(append(slices.Clone(firingConds), firingChange))
)

// unionOf is the UNION ALL of one firing SELECT per condition.
func unionOf(conds []string) string {
	branches := make([]string, len(conds))
	for i, c := range conds {
		branches[i] = firingSelect + c + firingLive
	}
	return strings.Join(branches, "\nUNION ALL\n")
}

// FiringRules returns the live rules of q's ticker (not done, not expired and not snoozed at q.Time:
// a rule snoozed until t fires again for a quote of t or later) whose condition
// q meets, of users who are not paused, with their owners' delivery settings, in one statement (see
// firingORSQL). change_pct rules are considered only when q carries a previous close.
func (s *Store) FiringRules(ctx context.Context, q stockalert.Quote) ([]stockalert.OwnedRule, error) {
	query, args := firingStatement(s.d, q)
	stmt, err := s.prepared(ctx, query) //nolint:sqlclosecheck // the store's statement: Store.Close closes it
	if err != nil {
		return nil, fmt.Errorf("rules fired by %s at %g: %w", q.Ticker, q.Price, err)
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("rules fired by %s at %g: %w", q.Ticker, q.Price, err)
	}
	defer rows.Close()
	var out []stockalert.OwnedRule
	for rows.Next() {
		var (
			f        stockalert.OwnedRule
			chat     sql.NullInt64
			interval int64
		)
		r, err := scanRule(rows, &f.Email, &chat, &interval)
		if err != nil {
			return nil, fmt.Errorf("scan rule: %w", err)
		}
		f.Rule = r
		f.TelegramChatID = int64Ptr(chat)
		f.NotifyInterval = time.Duration(interval) * time.Second
		out = append(out, f)
	}
	return out, rows.Err()
}

// firingStatement returns the statement FiringRules runs for q on d, and its arguments.
func firingStatement(d Dialect, q stockalert.Quote) (string, []any) {
	at := ms(q.Time)
	side, size, moved := dayMove(q)
	if d.MergesIndexRanges {
		if moved {
			return firingORWithChangeSQL, []any{q.Ticker, q.Price, q.Price, q.Price, q.Price, size, side, at, at}
		}
		return firingORSQL, []any{q.Ticker, q.Price, q.Price, q.Price, q.Price, at, at}
	}
	args := []any{q.Ticker, q.Price, at, at, q.Ticker, q.Price, at, at, q.Ticker, q.Price, at, at, q.Ticker, q.Price, at, at}
	if moved {
		return firingUnionWithChange, append(args, q.Ticker, size, side, at, at)
	}
	return firingUnionSQL, args
}

// dayMove returns the side and size (percent, > 0) of q's day change; moved is false when q has no
// previous close or did not move.
func dayMove(q stockalert.Quote) (side stockalert.Direction, size float64, moved bool) {
	pct, ok := q.DayChangePercent()
	switch {
	case !ok || pct == 0:
		return "", 0, false
	case pct < 0:
		return stockalert.DirectionDown, -pct, true
	}
	return stockalert.DirectionUp, pct, true
}

// MarkAlerted records the alerts raised at at, each on its rule (RuleID) and side (Event.Condition),
// in one UPDATE per 500 alerts: a rule already breached on that side keeps the time its breach began,
// any other starts a breach at at; a rule whose alert says RuleDone is also done (it fires once). It
// runs in the caller's transaction. Errors: the store's, wrapped.
func (s *Store) MarkAlerted(ctx context.Context, alerts []command.RaisedAlert, at time.Time) error {
	for len(alerts) > 0 {
		chunk := alerts[:min(len(alerts), 500)]
		alerts = alerts[len(chunk):]
		query, args := markAlertedStatement(chunk, ms(at))
		if _, err := s.q(ctx).ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("mark %d rules alerted: %w", len(chunk), err)
		}
	}
	return nil
}

// markAlertedStatement is MarkAlerted's UPDATE of the alerts' rules, and its arguments: each rule's new
// state comes from a CASE over the id lists of each side, written once for breached_since (MySQL
// evaluates the assignments in order, each seeing the ones before, so it comes first and reads the old
// state) and once for alert_state.
func markAlertedStatement(alerts []command.RaisedAlert, at int64) (string, []any) {
	var (
		sides     []stockalert.AlertState
		bySide    = map[stockalert.AlertState][]int64{}
		done, all []int64
	)
	for _, a := range alerts {
		side := stockalert.AlertState(a.Event.Condition)
		if _, ok := bySide[side]; !ok {
			sides = append(sides, side)
		}
		bySide[side] = append(bySide[side], a.RuleID)
		if a.Event.RuleDone {
			done = append(done, a.RuleID)
		}
		all = append(all, a.RuleID)
	}
	var state strings.Builder
	var stateArgs []any
	state.WriteString("CASE")
	for _, side := range sides {
		state.WriteString(" WHEN id IN " + idList(len(bySide[side])) + " THEN ?")
		stateArgs = append(append(stateArgs, int64sAsAny(bySide[side])...), side)
	}
	state.WriteString(" END")
	args := append(append(append([]any{}, stateArgs...), at, at), stateArgs...)
	args = append(args, at)
	doneAt := "done_at"
	if len(done) > 0 {
		doneAt = "CASE WHEN id IN " + idList(len(done)) + " THEN COALESCE(done_at, ?) ELSE done_at END"
		args = append(append(args, int64sAsAny(done)...), at)
	}
	return `UPDATE alert_rules
	           SET breached_since = CASE WHEN alert_state = ` + state.String() + ` THEN COALESCE(breached_since, ?) ELSE ? END,
	               alert_state = ` + state.String() + `, last_alerted_at = ?, done_at = ` + doneAt + `
	         WHERE id IN ` + idList(len(all)), append(args, int64sAsAny(all)...)
}

// idList is "(?, ?, …)" for n ids.
func idList(n int) string { return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")" }

// Rearm re-arms the breached rules of q's ticker whose condition q no longer meets, in one statement.
// Rules that are done stay as they are; so do change_pct rules when q has no previous close (their
// condition is then unknown).
func (s *Store) Rearm(ctx context.Context, q stockalert.Quote) error {
	query, args := rearmStatement(q)
	stmt, err := s.prepared(ctx, query) //nolint:sqlclosecheck // the store's statement: Store.Close closes it
	if err != nil {
		return fmt.Errorf("re-arm: %w", err)
	}
	if _, err := stmt.ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("re-arm: %w", err)
	}
	return nil
}

// rearmStatement returns the statement Rearm runs for q, and its arguments: the breached rules of the
// ticker that are not done and whose condition q does not meet.
func rearmStatement(q stockalert.Quote) (string, []any) {
	breach := `(high_value IS NOT NULL AND high_value < ?) OR (low_value IS NOT NULL AND low_value > ?)
	        OR (move_up_level IS NOT NULL AND move_up_level <= ?) OR (move_down_level IS NOT NULL AND move_down_level >= ?)`
	args := []any{q.Ticker, q.Price, q.Price, q.Price, q.Price}
	if _, known := q.DayChangePercent(); !known {
		breach += ` OR kind = 'change_pct'`
	} else if side, size, moved := dayMove(q); moved {
		breach += ` OR (kind = 'change_pct' AND percent <= ? AND direction IN (?, 'either'))`
		args = append(args, size, side)
	}
	return `UPDATE alert_rules SET alert_state = 'armed', breached_since = NULL
	         WHERE ticker = ? AND alert_state <> 'armed' AND done_at IS NULL AND NOT (` + breach + `)`, args
}

// MarkEvaluated records, in the caller's transaction, that ticker's price quoted at at is being
// evaluated, and reports whether it is the newest quote evaluated for the ticker so far (a quote of the
// same time counts: a redelivered event is evaluated again, idempotently). For an older quote it returns
// false and records nothing; the caller then leaves every subscription as it is. The ticker's row is
// locked until the transaction ends, so concurrent evaluations of one ticker take turns.
func (s *Store) MarkEvaluated(ctx context.Context, ticker stockalert.Ticker, at time.Time) (newest bool, err error) {
	// The usual case, a ticker evaluated before at an older (or the same) time, in one statement: the
	// UPDATE locks the row and, on MySQL, re-reads it once the lock is granted (so two evaluations of a
	// ticker still take turns). Matched rows, not changed ones, are counted on both stores (MySQL's
	// CLIENT_FOUND_ROWS), so the same time counts too.
	stmt, err := s.prepared(ctx, `UPDATE price_evaluations SET evaluated_at = ? WHERE ticker = ? AND evaluated_at <= ?`) //nolint:sqlclosecheck // the store's statement: Store.Close closes it
	if err != nil {
		return false, fmt.Errorf("record the evaluation of %s: %w", ticker, err)
	}
	res, err := stmt.ExecContext(ctx, ms(at), ticker, ms(at))
	if err != nil {
		return false, fmt.Errorf("record the evaluation of %s: %w", ticker, err)
	}
	if n, err := rowsAffected(res); err != nil || n == 1 {
		return n == 1, err
	}
	// A first evaluation of the ticker, or a late quote.
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
