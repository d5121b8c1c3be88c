package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// The statements whose query plans the tests check.
const (
	LatestPriceSQL  = latestPriceSQL
	AveragePriceSQL = averagePriceSQL
)

// FiringStatement is the statement FiringRules runs for q on the store's database, with its arguments.
func (s *Store) FiringStatement(q stockalert.Quote) (string, []any) { return firingStatement(s.d, q) }

// RearmStatement is the statement Rearm runs for q, with its arguments.
func RearmStatement(q stockalert.Quote) (string, []any) { return rearmStatement(q) }

// FiringRulesOneByOne is the baseline the evaluation benchmark compares FiringRules with: the ids of
// the ticker's rules, then one query per rule, checked in Go.
func (s *Store) FiringRulesOneByOne(ctx context.Context, q stockalert.Quote) ([]stockalert.OwnedRule, error) {
	ids, err := s.ruleIDsOf(ctx, q.Ticker)
	if err != nil {
		return nil, err
	}
	var out []stockalert.OwnedRule
	for _, id := range ids {
		f, paused, err := s.OneRule(ctx, id)
		if err != nil {
			return nil, err
		}
		r := f.Rule
		if _, _, ok := r.Check(q); !ok || paused || !r.DoneAt.IsZero() || r.Expired(q.Time) || r.SnoozedAt(q.Time) {
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// OneRule is the baseline's query for one rule: the rule with its owner's delivery settings and
// whether the owner is paused.
func (s *Store) OneRule(ctx context.Context, id int64) (stockalert.OwnedRule, bool, error) {
	var (
		f        stockalert.OwnedRule
		chat     sql.NullInt64
		interval int64
		paused   bool
	)
	r, err := scanRule(s.q(ctx).QueryRowContext(ctx, `SELECT `+ruleColumns+`, u.email, u.telegram_chat_id, u.notify_interval_s, u.paused
		FROM alert_rules s JOIN users u ON u.id = s.user_id WHERE s.id = ?`, id), &f.Email, &chat, &interval, &paused)
	if err != nil {
		return f, false, err
	}
	f.Rule, f.TelegramChatID, f.NotifyInterval = r, int64Ptr(chat), time.Duration(interval)*time.Second
	return f, paused, nil
}

func (s *Store) ruleIDsOf(ctx context.Context, t stockalert.Ticker) ([]int64, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT id FROM alert_rules WHERE ticker = ?`, t)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
