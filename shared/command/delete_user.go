package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// DeleteUser removes a user and everything recorded about them: subscriptions, notification log,
// idempotency records. Shared prices stay.
type DeleteUser struct {
	Email string
}

// UserDeleter deletes users.
type UserDeleter interface {
	// DeleteUser deletes the user with that e-mail and all their data, or returns stockalert.ErrNotFound.
	DeleteUser(ctx context.Context, email stockalert.Email) error
}

// DeleteUserHandler handles DeleteUser: *stockalert.ValidationError for a malformed e-mail,
// stockalert.ErrNotFound for an unknown user.
type DeleteUserHandler decorator.CommandHandler[DeleteUser]

// NewDeleteUserHandler builds the handler over store.
func NewDeleteUserHandler(store UserDeleter, logger *slog.Logger, m *decorator.Metrics) DeleteUserHandler {
	return decorator.ApplyCommand[DeleteUser](deleteUserHandler{store}, logger, m)
}

type deleteUserHandler struct{ store UserDeleter }

func (h deleteUserHandler) Handle(ctx context.Context, cmd DeleteUser) error {
	email, err := stockalert.ParseEmail(cmd.Email)
	if err != nil {
		return err
	}
	if err := h.store.DeleteUser(ctx, email); err != nil {
		return fmt.Errorf("delete %s: %w", email, err)
	}
	return nil
}
