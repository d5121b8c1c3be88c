package query

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// LatestPrice asks for the most recent recorded price of Ticker, or of the user's only ticker when
// Ticker is empty.
type LatestPrice struct {
	Email  string
	Ticker string
}

// PriceReader reads recorded prices.
type PriceReader interface {
	ProfileReader
	// LatestPrice returns the most recent price of ticker, or stockalert.ErrNotFound if none is recorded.
	LatestPrice(ctx context.Context, ticker stockalert.Ticker) (Price, error)
}

// LatestPriceHandler answers LatestPrice: the price, flagged Stale when older than the handler's
// Freshness; a *stockalert.ValidationError ("ticker", "email"); or stockalert.ErrNotFound when no
// price of that ticker is recorded yet.
type LatestPriceHandler decorator.QueryHandler[LatestPrice, Price]

// NewLatestPriceHandler builds the handler over r, flagging stale prices by f.
func NewLatestPriceHandler(r PriceReader, f Freshness, logger *slog.Logger, m *decorator.Metrics) LatestPriceHandler {
	return decorator.ApplyQuery[LatestPrice, Price](latestPriceHandler{r, f}, logger, m)
}

type latestPriceHandler struct {
	r PriceReader
	f Freshness
}

func (h latestPriceHandler) Handle(ctx context.Context, q LatestPrice) (Price, error) {
	t, err := tickerOf(ctx, h.r, q.Email, q.Ticker)
	if err != nil {
		return Price{}, err
	}
	p, err := h.r.LatestPrice(ctx, t)
	if err != nil {
		return Price{}, fmt.Errorf("latest price of %s: %w", t, err)
	}
	return h.f.flag(p), nil
}
