package sqlstore

import (
	"context"
	"fmt"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// SymbolKnown reports whether ticker has a recorded price or at least one subscription: a symbol the
// service already follows, which needs no check against the quote source.
func (s *Store) SymbolKnown(ctx context.Context, ticker stockalert.Ticker) (bool, error) {
	var known int
	err := s.q(ctx).QueryRowContext(ctx,
		`SELECT CASE WHEN EXISTS (SELECT 1 FROM subscriptions WHERE ticker = ?)
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
