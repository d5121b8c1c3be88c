package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Subscribe makes a user watch Ticker with exactly these thresholds (creating or replacing the
// subscription: a bound left nil is not watched).
type Subscribe struct {
	Email      string
	Ticker     string
	Thresholds stockalert.Thresholds
	// Unverified, when not nil, receives whether the symbol was accepted without the quote source's
	// word (see CheckSymbols).
	Unverified *bool
}

// Subscriber changes subscriptions.
type Subscriber interface {
	Transactor
	userLocker
	subscriptionWriter
	ruleCounter
}

// SubscribeHandler handles Subscribe: *stockalert.ValidationError for bad input or a user at
// its rule limit (MaxRulesPerUser), stockalert.ErrNotFound for an unknown user.
type SubscribeHandler decorator.CommandHandler[Subscribe]

// NewSubscribeHandler builds the handler over store; CheckSymbols makes it check a new symbol against
// the quote source first.
func NewSubscribeHandler(store Subscriber, logger *slog.Logger, m *decorator.Metrics, opts ...Option) SubscribeHandler {
	o := newOptions(opts)
	return decorator.ApplyCommand[Subscribe](subscribeHandler{store, o.check, o.maxRules}, logger, m)
}

type subscribeHandler struct {
	store    Subscriber
	check    symbolCheck
	maxRules int
}

func (h subscribeHandler) Handle(ctx context.Context, cmd Subscribe) error {
	email, err := stockalert.ParseEmail(cmd.Email)
	if err != nil {
		return err
	}
	ticker, err := stockalert.ParseTicker(cmd.Ticker)
	if err != nil {
		return err
	}
	if err := cmd.Thresholds.Validate(); err != nil {
		return err
	}
	unverified, err := h.check.verify(ctx, ticker)
	if err != nil {
		return fmt.Errorf("subscribe %s to %s: %w", email, ticker, err)
	}
	if cmd.Unverified != nil {
		*cmd.Unverified = unverified
	}
	return h.store.InTx(ctx, func(ctx context.Context) error {
		u, err := h.store.LockUser(ctx, email)
		if err != nil {
			return fmt.Errorf("subscribe %s to %s: %w", email, ticker, err)
		}
		subs, err := h.store.Subscriptions(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("subscribe %s to %s: %w", email, ticker, err)
		}
		known := false
		for _, s := range subs {
			if s.Ticker == ticker {
				if s.Thresholds.Equal(cmd.Thresholds) {
					return nil // unchanged: keep the alert state
				}
				known = true
			}
		}
		if !known {
			n, err := h.store.CountRules(ctx, u.ID)
			if err != nil {
				return fmt.Errorf("subscribe %s to %s: %w", email, ticker, err)
			}
			if n >= h.maxRules {
				return errTooManyRules("ticker", h.maxRules)
			}
		}
		if err := h.store.PutSubscription(ctx, u.ID, ticker, cmd.Thresholds); err != nil {
			return fmt.Errorf("subscribe %s to %s: %w", email, ticker, err)
		}
		if err := h.check.record(ctx, ticker, unverified); err != nil {
			return fmt.Errorf("subscribe %s to %s: %w", email, ticker, err)
		}
		return nil
	})
}
