package query

import (
	"context"
	"fmt"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// tickerOf resolves the ticker a price query is about: the one given, or else the only ticker the user
// watches. A user who watches several (or none) must name one: *stockalert.ValidationError for "ticker".
func tickerOf(ctx context.Context, r ProfileReader, email, ticker string) (stockalert.Ticker, error) {
	if ticker != "" {
		return stockalert.ParseTicker(ticker)
	}
	e, err := stockalert.ParseEmail(email)
	if err != nil {
		return "", err
	}
	p, err := r.UserProfile(ctx, e)
	if err != nil {
		return "", fmt.Errorf("profile %s: %w", e, err)
	}
	if len(p.Subscriptions) != 1 {
		return "", stockalert.Invalid("ticker", "is required: the user watches %d tickers", len(p.Subscriptions))
	}
	return p.Subscriptions[0].Ticker, nil
}
