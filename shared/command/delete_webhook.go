package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// DeleteWebhook removes a user's webhook: its URL and secret are cleared and the channel turned off.
// Removing a webhook that is not there succeeds.
type DeleteWebhook struct {
	Email string
}

// DeleteWebhookHandler handles DeleteWebhook: *stockalert.ValidationError, stockalert.ErrNotFound for
// an unknown user.
type DeleteWebhookHandler decorator.CommandHandler[DeleteWebhook]

// NewDeleteWebhookHandler builds the handler over store.
func NewDeleteWebhookHandler(store WebhookRegistrar, logger *slog.Logger, m *decorator.Metrics) DeleteWebhookHandler {
	return decorator.ApplyCommand[DeleteWebhook](deleteWebhookHandler{store}, logger, m)
}

type deleteWebhookHandler struct{ store WebhookRegistrar }

func (h deleteWebhookHandler) Handle(ctx context.Context, cmd DeleteWebhook) error {
	email, err := stockalert.ParseEmail(cmd.Email)
	if err != nil {
		return err
	}
	err = h.store.InTx(ctx, func(ctx context.Context) error {
		u, err := h.store.UserByEmail(ctx, email)
		if err != nil {
			return err
		}
		if err := h.store.SetChannelEnabled(ctx, u.ID, stockalert.ChannelWebhook, false); err != nil {
			return err
		}
		return h.store.SetChannelTarget(ctx, u.ID, stockalert.ChannelWebhook, "", "")
	})
	if err != nil {
		return fmt.Errorf("delete webhook of %s: %w", email, err)
	}
	decorator.Report(ctx, slog.LevelInfo, "webhook deleted",
		slog.String("event", "webhook-deleted"), slog.String("email", string(email)))
	return nil
}
