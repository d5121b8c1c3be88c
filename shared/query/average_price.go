package query

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// MaxAverageCount bounds how many recent prices one AveragePrice may average.
const MaxAverageCount = 10_000

// AveragePrice asks for the mean of the last Count recorded prices of Ticker (or of the user's only
// ticker when Ticker is empty).
type AveragePrice struct {
	Email  string
	Ticker string
	Count  int
}

// AverageReader averages recorded prices.
type AverageReader interface {
	ProfileReader
	// AveragePrice averages the last n prices of ticker; Count is 0 when none is recorded.
	AveragePrice(ctx context.Context, ticker stockalert.Ticker, n int) (Average, error)
}

// AveragePriceHandler answers AveragePrice: the average, a *stockalert.ValidationError ("count",
// "ticker", "email"), or stockalert.ErrNotFound when no price of that ticker is recorded yet.
type AveragePriceHandler decorator.QueryHandler[AveragePrice, Average]

// NewAveragePriceHandler builds the handler over r.
func NewAveragePriceHandler(r AverageReader, logger *slog.Logger, m *decorator.Metrics) AveragePriceHandler {
	return decorator.ApplyQuery[AveragePrice, Average](averagePriceHandler{r}, logger, m)
}

type averagePriceHandler struct{ r AverageReader }

func (h averagePriceHandler) Handle(ctx context.Context, q AveragePrice) (Average, error) {
	if q.Count < 1 || q.Count > MaxAverageCount {
		return Average{}, stockalert.Invalid("count", "must be between 1 and %d", MaxAverageCount)
	}
	t, err := tickerOf(ctx, h.r, q.Email, q.Ticker)
	if err != nil {
		return Average{}, err
	}
	a, err := h.r.AveragePrice(ctx, t, q.Count)
	if err != nil {
		return Average{}, fmt.Errorf("average of last %d prices of %s: %w", q.Count, t, err)
	}
	if a.Count == 0 {
		return Average{}, stockalert.NotFound("no price of %s", t)
	}
	return a, nil
}
