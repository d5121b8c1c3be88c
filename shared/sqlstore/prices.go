package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// priceChunk bounds the rows per statement (placeholders: 2 per row to look up, 7 to insert).
const priceChunk = 500

// RecordPrices stores the quotes whose (ticker, time) is not recorded yet and returns those; a quote's
// PreviousClose is stored in previous_close, NULL when it is 0 (unknown). The batch
// is written with one look-up and one multi-row insert per 500 quotes; a row that appears between the
// two (a concurrent writer) is skipped by the insert, and reported fresh by both writers.
func (s *Store) RecordPrices(ctx context.Context, quotes []stockalert.Quote) ([]stockalert.Quote, error) {
	var fresh []stockalert.Quote
	err := s.InTx(ctx, func(ctx context.Context) error {
		fresh = fresh[:0]
		for start := 0; start < len(quotes); start += priceChunk {
			chunk := quotes[start:min(start+priceChunk, len(quotes))]
			known, err := s.recordedPrices(ctx, chunk)
			if err != nil {
				return err
			}
			var args []any
			rows := 0
			recorded := ms(s.now())
			for _, q := range chunk {
				k := quoteKey{q.Ticker, ms(q.Time)}
				if known[k] {
					continue
				}
				known[k] = true
				fresh = append(fresh, q)
				args = append(args, q.Ticker, ms(q.Time), q.Price, q.Currency, recorded, q.Source.Stored(), previousClose(q))
				rows++
			}
			if rows == 0 {
				continue
			}
			_, err = s.q(ctx).ExecContext(ctx,
				`INSERT INTO prices (ticker, quoted_at, price, currency, recorded_at, source, previous_close) VALUES `+
					placeholders(rows, 7)+s.d.onConflictDoNothing("ticker"), args...)
			if err != nil {
				return fmt.Errorf("insert %d prices: %w", rows, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fresh, nil
}

// previousClose is the value of q's previous_close column: NULL when the previous close is unknown.
func previousClose(q stockalert.Quote) sql.NullFloat64 {
	return sql.NullFloat64{Float64: q.PreviousClose, Valid: q.PreviousClose > 0}
}

type quoteKey struct {
	ticker stockalert.Ticker
	ms     int64
}

// recordedPrices returns which of the quotes' (ticker, time) keys are already recorded: one statement
// of primary-key point look-ups.
func (s *Store) recordedPrices(ctx context.Context, quotes []stockalert.Quote) (map[quoteKey]bool, error) {
	args := make([]any, 0, 2*len(quotes))
	for _, q := range quotes {
		args = append(args, q.Ticker, ms(q.Time))
	}
	cond := strings.TrimSuffix(strings.Repeat("(ticker = ? AND quoted_at = ?) OR ", len(quotes)), " OR ")
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT ticker, quoted_at FROM prices WHERE `+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("look up recorded prices: %w", err)
	}
	defer rows.Close()
	known := make(map[quoteKey]bool, len(quotes))
	for rows.Next() {
		var k quoteKey
		if err := rows.Scan(&k.ticker, &k.ms); err != nil {
			return nil, fmt.Errorf("scan recorded price: %w", err)
		}
		known[k] = true
	}
	return known, rows.Err()
}

// latestPriceSQL and averagePriceSQL read the newest rows of one ticker backwards along the primary
// key (ticker, quoted_at): no sort, no scan of other tickers. The average takes only the rows of the
// latest price's source, so real and simulated prices never mix.
const (
	latestPriceSQL  = `SELECT ticker, price, currency, quoted_at, source, previous_close FROM prices WHERE ticker = ? ORDER BY quoted_at DESC LIMIT 1`
	averagePriceSQL = `SELECT COUNT(*), COALESCE(AVG(price), 0) FROM
	   (SELECT price FROM prices WHERE ticker = ? AND source = ? ORDER BY quoted_at DESC LIMIT ?) recent`
)

// LatestPrice returns the most recent price of ticker, with its previous close (0 when unknown), or
// stockalert.ErrNotFound.
func (s *Store) LatestPrice(ctx context.Context, ticker stockalert.Ticker) (query.Price, error) {
	q, err := s.LatestQuote(ctx, ticker)
	if err != nil {
		return query.Price{}, err
	}
	return query.Price{Ticker: q.Ticker, Price: q.Price, Currency: q.Currency, Time: q.Time,
		PreviousClose: q.PreviousClose, Simulated: q.Simulated()}, nil
}

// LatestQuote returns the most recent recorded quote of ticker with its previous close (0 when it was
// not recorded), or stockalert.ErrNotFound.
func (s *Store) LatestQuote(ctx context.Context, ticker stockalert.Ticker) (stockalert.Quote, error) {
	var (
		q      stockalert.Quote
		at     int64
		source string
		prev   sql.NullFloat64
	)
	err := s.q(ctx).QueryRowContext(ctx, latestPriceSQL, ticker).Scan(&q.Ticker, &q.Price, &q.Currency, &at, &source, &prev)
	if err != nil {
		return stockalert.Quote{}, notFound(err, "price of "+string(ticker))
	}
	q.Time = time.UnixMilli(at).UTC()
	q.Source = stockalert.QuoteSource(source)
	q.PreviousClose = prev.Float64
	return q, nil
}

// LatestPrices returns the latest price of each ticker that has one (as LatestPrice: with its previous
// close).
func (s *Store) LatestPrices(ctx context.Context, tickers []stockalert.Ticker) (map[stockalert.Ticker]query.Price, error) {
	out := make(map[stockalert.Ticker]query.Price, len(tickers))
	for _, t := range tickers {
		p, err := s.LatestPrice(ctx, t)
		switch {
		case err == nil:
			out[t] = p
		case !isNotFound(err):
			return nil, err
		}
	}
	return out, nil
}

// AveragePrice averages the last n prices of ticker from the source of its latest price (a ticker
// switched from simulated to real quotes averages only the real ones); Count is 0 when none is
// recorded.
func (s *Store) AveragePrice(ctx context.Context, ticker stockalert.Ticker, n int) (query.Average, error) {
	a := query.Average{Ticker: ticker}
	var source string
	err := s.q(ctx).QueryRowContext(ctx, `SELECT source FROM prices WHERE ticker = ? ORDER BY quoted_at DESC LIMIT 1`, ticker).Scan(&source)
	if errors.Is(err, sql.ErrNoRows) {
		return a, nil
	}
	if err != nil {
		return query.Average{}, fmt.Errorf("average price: source of the latest: %w", err)
	}
	a.Simulated = source == string(stockalert.QuoteSourceSimulated)
	err = s.q(ctx).QueryRowContext(ctx, averagePriceSQL, ticker, source, n).Scan(&a.Count, &a.Average)
	if err != nil {
		return query.Average{}, fmt.Errorf("average price: %w", err)
	}
	return a, nil
}
