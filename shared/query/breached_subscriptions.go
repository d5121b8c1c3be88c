package query

import (
	"context"
	"fmt"
	"log/slog"
	"math"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// BreachedSubscriptions asks which subscriptions of Ticker have Price outside their range. Paused users'
// subscriptions are left out.
type BreachedSubscriptions struct {
	Ticker stockalert.Ticker
	Price  float64
}

// BreachReader finds breached subscriptions.
type BreachReader interface {
	// BreachedSubscriptions returns, in one set-based statement, the subscriptions of ticker whose
	// high_value is below price or whose low_value is above it, of users who are not paused.
	BreachedSubscriptions(ctx context.Context, ticker stockalert.Ticker, price float64) ([]stockalert.BreachedSubscription, error)
}

// BreachedSubscriptionsHandler answers BreachedSubscriptions: a *stockalert.ValidationError for a bad
// ticker or price; other errors are store faults.
type BreachedSubscriptionsHandler decorator.QueryHandler[BreachedSubscriptions, []stockalert.BreachedSubscription]

// NewBreachedSubscriptionsHandler builds the handler over r.
func NewBreachedSubscriptionsHandler(r BreachReader, logger *slog.Logger, m *decorator.Metrics) BreachedSubscriptionsHandler {
	return decorator.ApplyQuery[BreachedSubscriptions, []stockalert.BreachedSubscription](breachedHandler{r}, logger, m)
}

type breachedHandler struct{ r BreachReader }

func (h breachedHandler) Handle(ctx context.Context, q BreachedSubscriptions) ([]stockalert.BreachedSubscription, error) {
	t, err := stockalert.ParseTicker(string(q.Ticker))
	if err != nil {
		return nil, err
	}
	if math.IsNaN(q.Price) || math.IsInf(q.Price, 0) || q.Price <= 0 {
		return nil, stockalert.Invalid("price", "must be a finite number greater than 0")
	}
	subs, err := h.r.BreachedSubscriptions(ctx, t, q.Price)
	if err != nil {
		return nil, fmt.Errorf("subscriptions of %s breached at %g: %w", t, q.Price, err)
	}
	return subs, nil
}
