package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// SymbolKnown reports whether ticker has a recorded price or at least one subscription: a symbol the
// service already follows, which needs no check against the quote source.
func (s *Store) SymbolKnown(ctx context.Context, ticker stockalert.Ticker) (bool, error) {
	var known int
	err := s.q(ctx).QueryRowContext(ctx,
		`SELECT CASE WHEN EXISTS (SELECT 1 FROM alert_rules WHERE ticker = ?)
		              OR EXISTS (SELECT 1 FROM prices WHERE ticker = ?) THEN 1 ELSE 0 END`, ticker, ticker).Scan(&known)
	if err != nil {
		return false, fmt.Errorf("is %s known: %w", ticker, err)
	}
	return known == 1, nil
}

// MarkUnverified records ticker as accepted without the quote source's word (misses 0); a ticker
// already recorded keeps its count.
func (s *Store) MarkUnverified(ctx context.Context, ticker stockalert.Ticker) error {
	_, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO unverified_symbols (ticker, misses, created_at) VALUES (?, 0, ?)`+s.d.onConflictDoNothing("misses"),
		ticker, ms(s.now()))
	if err != nil {
		return fmt.Errorf("mark %s unverified: %w", ticker, err)
	}
	return nil
}

// UnverifiedSymbols returns the unverified tickers with their misses, in ticker order.
func (s *Store) UnverifiedSymbols(ctx context.Context) (map[stockalert.Ticker]int, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT ticker, misses FROM unverified_symbols ORDER BY ticker`)
	if err != nil {
		return nil, fmt.Errorf("list unverified symbols: %w", err)
	}
	defer rows.Close()
	out := make(map[stockalert.Ticker]int)
	for rows.Next() {
		var t stockalert.Ticker
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			return nil, fmt.Errorf("scan unverified symbol: %w", err)
		}
		out[t] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list unverified symbols: %w", err)
	}
	return out, nil
}

// tickerArgs returns tickers as query arguments.
func tickerArgs(tickers []stockalert.Ticker) []any {
	args := make([]any, len(tickers))
	for i, t := range tickers {
		args[i] = t
	}
	return args
}

// VerifySymbols removes tickers from the unverified symbols (a collection priced them).
func (s *Store) VerifySymbols(ctx context.Context, tickers []stockalert.Ticker) error {
	if len(tickers) == 0 {
		return nil
	}
	if _, err := s.q(ctx).ExecContext(ctx, `DELETE FROM unverified_symbols WHERE ticker IN `+placeholders(1, len(tickers)),
		tickerArgs(tickers)...); err != nil {
		return fmt.Errorf("verify %d symbols: %w", len(tickers), err)
	}
	return nil
}

// MissSymbols counts one miss for each unverified ticker among tickers (a collection found it unknown)
// and returns those whose misses reached maxMisses, in ticker order. Verified tickers are left alone.
func (s *Store) MissSymbols(ctx context.Context, tickers []stockalert.Ticker, maxMisses int) ([]stockalert.Ticker, error) {
	if len(tickers) == 0 {
		return nil, nil
	}
	in := placeholders(1, len(tickers))
	if _, err := s.q(ctx).ExecContext(ctx, `UPDATE unverified_symbols SET misses = misses + 1 WHERE ticker IN `+in,
		tickerArgs(tickers)...); err != nil {
		return nil, fmt.Errorf("count misses of %d symbols: %w", len(tickers), err)
	}
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT ticker FROM unverified_symbols WHERE misses >= ? AND ticker IN `+in+` ORDER BY ticker`,
		append([]any{maxMisses}, tickerArgs(tickers)...)...)
	if err != nil {
		return nil, fmt.Errorf("list missed symbols: %w", err)
	}
	defer rows.Close()
	var out []stockalert.Ticker
	for rows.Next() {
		var t stockalert.Ticker
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("scan missed symbol: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list missed symbols: %w", err)
	}
	return out, nil
}

// DropSymbol deletes every rule on ticker and its unverified row, and returns one entry per user whose
// rules were deleted (the lowest id of their rules on ticker as ID, the user's e-mail and linked
// chat), in that id's order.
func (s *Store) DropSymbol(ctx context.Context, ticker stockalert.Ticker) ([]stockalert.OwnedRule, error) {
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT MIN(s.id), u.email, u.telegram_chat_id FROM alert_rules s JOIN users u ON u.id = s.user_id
		 WHERE s.ticker = ? GROUP BY u.id, u.email, u.telegram_chat_id ORDER BY MIN(s.id)`, ticker)
	if err != nil {
		return nil, fmt.Errorf("list subscribers of %s: %w", ticker, err)
	}
	defer rows.Close()
	var out []stockalert.OwnedRule
	for rows.Next() {
		var b stockalert.OwnedRule
		var chat sql.NullInt64
		if err := rows.Scan(&b.ID, &b.Email, &chat); err != nil {
			return nil, fmt.Errorf("scan subscriber of %s: %w", ticker, err)
		}
		if chat.Valid {
			b.TelegramChatID = &chat.Int64
		}
		b.Ticker = ticker
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list subscribers of %s: %w", ticker, err)
	}
	for _, stmt := range []string{`DELETE FROM alert_rules WHERE ticker = ?`, `DELETE FROM unverified_symbols WHERE ticker = ?`} {
		if _, err := s.q(ctx).ExecContext(ctx, stmt, ticker); err != nil {
			return nil, fmt.Errorf("drop symbol %s: %w", ticker, err)
		}
	}
	return out, nil
}
