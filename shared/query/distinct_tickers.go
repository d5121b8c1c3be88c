package query

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// DistinctTickers asks for every ticker at least one user watches: what the collector prices.
type DistinctTickers struct{}

// TickerLister lists watched tickers.
type TickerLister interface {
	// DistinctTickers returns every subscribed ticker once, in order.
	DistinctTickers(ctx context.Context) ([]stockalert.Ticker, error)
}

// DistinctTickersHandler answers DistinctTickers; errors are store faults.
type DistinctTickersHandler decorator.QueryHandler[DistinctTickers, []stockalert.Ticker]

// NewDistinctTickersHandler builds the handler over r.
func NewDistinctTickersHandler(r TickerLister, logger *slog.Logger, m *decorator.Metrics) DistinctTickersHandler {
	return decorator.ApplyQuery[DistinctTickers, []stockalert.Ticker](distinctTickersHandler{r}, logger, m)
}

type distinctTickersHandler struct{ r TickerLister }

func (h distinctTickersHandler) Handle(ctx context.Context, _ DistinctTickers) ([]stockalert.Ticker, error) {
	ts, err := h.r.DistinctTickers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list subscribed tickers: %w", err)
	}
	return ts, nil
}
