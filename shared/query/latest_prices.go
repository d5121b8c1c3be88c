package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// LatestPrices asks for the latest recorded price of every ticker on which the user has a live rule
// (not done, not expired).
type LatestPrices struct {
	Email string
}

// LivePrices answers LatestPrices: the prices in ticker order, and the live tickers with no price
// recorded yet.
type LivePrices struct {
	Prices   []Price
	Unpriced []stockalert.Ticker
}

// LivePriceReader reads the tickers of a user's live rules and their prices.
type LivePriceReader interface {
	// LiveTickers returns, once each and in order, the tickers on which the user has a live rule.
	LiveTickers(ctx context.Context, email stockalert.Email) ([]stockalert.Ticker, error)
	// LatestPrice returns the most recent price of ticker, or stockalert.ErrNotFound if none is recorded.
	LatestPrice(ctx context.Context, ticker stockalert.Ticker) (Price, error)
}

// LatestPricesHandler answers LatestPrices, or a *stockalert.ValidationError naming "email".
type LatestPricesHandler decorator.QueryHandler[LatestPrices, LivePrices]

// NewLatestPricesHandler builds the handler over r, flagging stale prices by f.
func NewLatestPricesHandler(r LivePriceReader, f Freshness, logger *slog.Logger, m *decorator.Metrics) LatestPricesHandler {
	return decorator.ApplyQuery[LatestPrices, LivePrices](latestPricesHandler{r, f}, logger, m)
}

type latestPricesHandler struct {
	r LivePriceReader
	f Freshness
}

func (h latestPricesHandler) Handle(ctx context.Context, q LatestPrices) (LivePrices, error) {
	email, err := stockalert.ParseEmail(q.Email)
	if err != nil {
		return LivePrices{}, err
	}
	tickers, err := h.r.LiveTickers(ctx, email)
	if err != nil {
		return LivePrices{}, fmt.Errorf("latest prices of %s: %w", email, err)
	}
	out := LivePrices{Prices: []Price{}, Unpriced: []stockalert.Ticker{}}
	for _, t := range tickers {
		p, err := h.r.LatestPrice(ctx, t)
		switch {
		case err == nil:
			out.Prices = append(out.Prices, h.f.flag(p))
		case errors.Is(err, stockalert.ErrNotFound):
			out.Unpriced = append(out.Unpriced, t)
		default:
			return LivePrices{}, fmt.Errorf("latest prices of %s: %w", email, err)
		}
	}
	return out, nil
}
