package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Rules asks for a user's alert rules, on Ticker only unless it is empty.
type Rules struct {
	Email  string
	Ticker string
}

// RuleView is one rule as its owner sees it: its state at the time of asking and the latest recorded
// quote of its ticker.
type RuleView struct {
	Rule  stockalert.Rule
	State stockalert.RuleState
	// Quote is the ticker's latest recorded quote (with its PreviousClose when recorded, giving the
	// day change); nil when no price of the ticker is recorded yet.
	Quote *stockalert.Quote
	// Stale: the quote is older than the handler's Freshness allows.
	Stale bool
}

// RuleReader reads users' rules and the quotes they are about.
type RuleReader interface {
	// UserRules returns the rules of the user with that e-mail (on ticker only, unless it is empty),
	// ordered by ticker then creation.
	UserRules(ctx context.Context, email stockalert.Email, ticker stockalert.Ticker) ([]stockalert.Rule, error)
	// LatestQuote returns the most recent recorded quote of ticker, or stockalert.ErrNotFound.
	LatestQuote(ctx context.Context, ticker stockalert.Ticker) (stockalert.Quote, error)
}

// RulesHandler answers Rules: the rules (none is an empty list), or a *stockalert.ValidationError
// naming "email" or "ticker".
type RulesHandler decorator.QueryHandler[Rules, []RuleView]

// NewRulesHandler builds the handler over r; f's clock decides the rules' states and f flags stale
// quotes.
func NewRulesHandler(r RuleReader, f Freshness, logger *slog.Logger, m *decorator.Metrics) RulesHandler {
	return decorator.ApplyQuery[Rules, []RuleView](rulesHandler{r, f}, logger, m)
}

type rulesHandler struct {
	r RuleReader
	f Freshness
}

func (h rulesHandler) Handle(ctx context.Context, q Rules) ([]RuleView, error) {
	email, err := stockalert.ParseEmail(q.Email)
	if err != nil {
		return nil, err
	}
	var ticker stockalert.Ticker
	if q.Ticker != "" {
		if ticker, err = stockalert.ParseTicker(q.Ticker); err != nil {
			return nil, err
		}
	}
	rules, err := h.r.UserRules(ctx, email, ticker)
	if err != nil {
		return nil, fmt.Errorf("rules of %s: %w", email, err)
	}
	now := h.f.now()
	quotes := make(map[stockalert.Ticker]*stockalert.Quote)
	out := make([]RuleView, 0, len(rules))
	for _, r := range rules {
		quote, seen := quotes[r.Ticker]
		if !seen {
			q, err := h.r.LatestQuote(ctx, r.Ticker)
			switch {
			case err == nil:
				quote = &q
			case !errors.Is(err, stockalert.ErrNotFound):
				return nil, fmt.Errorf("rules of %s: %w", email, err)
			}
			quotes[r.Ticker] = quote
		}
		v := RuleView{Rule: r, State: r.StateAt(now), Quote: quote}
		if quote != nil {
			v.Stale = stockalert.IsStale(quote.Time, now, h.f.MaxAge)
		}
		out = append(out, v)
	}
	return out, nil
}

// now returns the Freshness clock's time.
func (f Freshness) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}
