package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Unsubscribe stops a user watching Ticker.
type Unsubscribe struct {
	Email  string
	Ticker string
}

// subscriptionDeleter removes subscriptions.
type subscriptionDeleter interface {
	// DeleteSubscription removes the user's subscription to ticker, or returns stockalert.ErrNotFound.
	DeleteSubscription(ctx context.Context, userID int64, ticker stockalert.Ticker) error
}

// Unsubscriber removes subscriptions of users found by e-mail.
type Unsubscriber interface {
	Transactor
	userLocker
	subscriptionDeleter
}

// UnsubscribeHandler handles Unsubscribe: *stockalert.ValidationError for bad input,
// stockalert.ErrNotFound when the user or the subscription does not exist.
type UnsubscribeHandler decorator.CommandHandler[Unsubscribe]

// NewUnsubscribeHandler builds the handler over store.
func NewUnsubscribeHandler(store Unsubscriber, logger *slog.Logger, m *decorator.Metrics) UnsubscribeHandler {
	return decorator.ApplyCommand[Unsubscribe](unsubscribeHandler{store}, logger, m)
}

type unsubscribeHandler struct{ store Unsubscriber }

func (h unsubscribeHandler) Handle(ctx context.Context, cmd Unsubscribe) error {
	email, err := stockalert.ParseEmail(cmd.Email)
	if err != nil {
		return err
	}
	ticker, err := stockalert.ParseTicker(cmd.Ticker)
	if err != nil {
		return err
	}
	return h.store.InTx(ctx, func(ctx context.Context) error {
		u, err := h.store.LockUser(ctx, email)
		if err != nil {
			return fmt.Errorf("unsubscribe %s from %s: %w", email, ticker, err)
		}
		if err := h.store.DeleteSubscription(ctx, u.ID, ticker); err != nil {
			return fmt.Errorf("unsubscribe %s from %s: %w", email, ticker, err)
		}
		return nil
	})
}
