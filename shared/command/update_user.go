package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Change is an optional update of a nullable value: Set false leaves it alone, Set with a nil Value
// clears it, Set with a Value replaces it.
type Change[T any] struct {
	Set   bool
	Value *T
}

// UpdateUser changes the ticker and thresholds of a user who watches one ticker (the original, single
// ticker API). Changing the ticker moves the subscription, thresholds included. For a user with no
// subscription it creates one (the ticker is then required).
type UpdateUser struct {
	Email  string
	Ticker *string
	High   Change[float64]
	Low    Change[float64]
}

// UserUpdater changes users' subscriptions.
type UserUpdater interface {
	Transactor
	userLocker
	subscriptionWriter
	subscriptionDeleter
	ruleCounter
}

// UpdateUserHandler handles UpdateUser: *stockalert.ValidationError for bad input or a resulting range
// with high <= low, stockalert.ErrNotFound for an unknown user, a *stockalert.ConflictError (ErrConflict) naming
// "ticker" when the user watches several tickers (use Subscribe instead).
type UpdateUserHandler decorator.CommandHandler[UpdateUser]

// NewUpdateUserHandler builds the handler over store; CheckSymbols makes it check a new symbol against
// the quote source first.
func NewUpdateUserHandler(store UserUpdater, logger *slog.Logger, m *decorator.Metrics, opts ...Option) UpdateUserHandler {
	o := newOptions(opts)
	return decorator.ApplyCommand[UpdateUser](updateUserHandler{store, o.check, o.maxRules}, logger, m)
}

type updateUserHandler struct {
	store    UserUpdater
	check    symbolCheck
	maxRules int
}

func (h updateUserHandler) Handle(ctx context.Context, cmd UpdateUser) error {
	email, err := stockalert.ParseEmail(cmd.Email)
	if err != nil {
		return err
	}
	var newTicker stockalert.Ticker
	if cmd.Ticker != nil {
		if newTicker, err = stockalert.ParseTicker(*cmd.Ticker); err != nil {
			return err
		}
	}
	unverified := false
	if newTicker != "" {
		if unverified, err = h.check.verify(ctx, newTicker); err != nil {
			return fmt.Errorf("update %s: %w", email, err)
		}
	}
	return h.store.InTx(ctx, func(ctx context.Context) error {
		u, err := h.store.LockUser(ctx, email)
		if err != nil {
			return fmt.Errorf("update %s: %w", email, err)
		}
		subs, err := h.store.Subscriptions(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("update %s: %w", email, err)
		}
		var current stockalert.Subscription
		switch len(subs) {
		case 0:
			if newTicker == "" {
				return stockalert.Invalid("ticker", "is required: the user watches no ticker yet")
			}
			n, err := h.store.CountRules(ctx, u.ID)
			if err != nil {
				return fmt.Errorf("update %s: %w", email, err)
			}
			if n >= h.maxRules {
				return errTooManyRules("ticker", h.maxRules)
			}
		case 1:
			current = subs[0]
		default:
			return &stockalert.ConflictError{Field: "ticker", Reason: fmt.Sprintf(
				"the user watches %d tickers: change each with PUT /users/{email}/tickers/{ticker}", len(subs))}
		}
		th := current.Thresholds
		if cmd.High.Set {
			th.High = cmd.High.Value
		}
		if cmd.Low.Set {
			th.Low = cmd.Low.Value
		}
		if err := th.Validate(); err != nil {
			return err
		}
		target := current.Ticker
		if newTicker != "" {
			target = newTicker
		}
		if current.Ticker != "" && current.Ticker != target {
			if err := h.store.DeleteSubscription(ctx, u.ID, current.Ticker); err != nil {
				return fmt.Errorf("update %s: move from %s: %w", email, current.Ticker, err)
			}
		}
		if current.Ticker == target && th.Equal(current.Thresholds) {
			return nil // nothing changes; keep the alert state
		}
		if err := h.store.PutSubscription(ctx, u.ID, target, th); err != nil {
			return fmt.Errorf("update %s: subscribe %s: %w", email, target, err)
		}
		if err := h.check.record(ctx, target, unverified && target == newTicker); err != nil {
			return fmt.Errorf("update %s: %w", email, err)
		}
		return nil
	})
}
