package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Unsubscribe stops a user watching Ticker: it removes every rule of the user on Ticker, its range
// included.
type Unsubscribe struct {
	Email  string
	Ticker string
}

// rulesOnDeleter removes every rule of a user on a ticker.
type rulesOnDeleter interface {
	// DeleteRulesOn removes every rule of the user on ticker and returns how many it removed.
	DeleteRulesOn(ctx context.Context, userID int64, ticker stockalert.Ticker) (int64, error)
}

// Unsubscriber removes subscriptions of users found by e-mail.
type Unsubscriber interface {
	Transactor
	userLocker
	rulesOnDeleter
}

// UnsubscribeHandler handles Unsubscribe: *stockalert.ValidationError for bad input,
// stockalert.ErrNotFound when the user does not exist, a *stockalert.NotFoundError "no rule on <ticker>"
// when the user has no rule on the ticker.
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
	var n int64
	err = h.store.InTx(ctx, func(ctx context.Context) error {
		u, err := h.store.LockUser(ctx, email)
		if err != nil {
			return fmt.Errorf("unsubscribe %s from %s: %w", email, ticker, err)
		}
		n, err = h.store.DeleteRulesOn(ctx, u.ID, ticker)
		if err != nil {
			return fmt.Errorf("unsubscribe %s from %s: %w", email, ticker, err)
		}
		if n == 0 {
			return stockalert.NotFound("no rule on %s", ticker)
		}
		return nil
	})
	if err != nil {
		return err
	}
	decorator.Report(ctx, slog.LevelInfo, "ticker unwatched", slog.String("event", "ticker-unwatched"),
		slog.String("email", string(email)), slog.String("ticker", string(ticker)), slog.Int64("rules_deleted", n))
	return nil
}
