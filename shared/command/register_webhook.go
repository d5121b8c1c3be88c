package command

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// RegisterWebhook sets a user's webhook: URL (see stockalert.ParseWebhookURL) and its signing secret
// (stockalert.NewWebhookSecret), which the caller generates and shows the user once. The webhook
// channel is turned on, its failure count and any reason the system turned it off cleared; a webhook
// registered before is replaced (its old secret no longer signs anything).
type RegisterWebhook struct {
	Email  string
	URL    string
	Secret string
}

// WebhookRegistrar stores webhooks.
type WebhookRegistrar interface {
	Transactor
	// UserByEmail returns the user, or stockalert.ErrNotFound.
	UserByEmail(ctx context.Context, email stockalert.Email) (stockalert.User, error)
	// SetChannelTarget saves channel's target and secret, clearing its failures and disabled reason.
	SetChannelTarget(ctx context.Context, userID int64, channel stockalert.Channel, target, secret string) error
	// SetChannelEnabled turns channel on or off.
	SetChannelEnabled(ctx context.Context, userID int64, channel stockalert.Channel, enabled bool) error
}

// RegisterWebhookHandler handles RegisterWebhook: *stockalert.ValidationError naming "url" (or
// "email"), stockalert.ErrNotFound for an unknown user.
type RegisterWebhookHandler decorator.CommandHandler[RegisterWebhook]

// NewRegisterWebhookHandler builds the handler over store; allowHTTPLoopback accepts http:// URLs on a
// loopback host (WEBHOOK_ALLOW_HTTP_LOOPBACK, development).
func NewRegisterWebhookHandler(store WebhookRegistrar, allowHTTPLoopback bool, logger *slog.Logger, m *decorator.Metrics) RegisterWebhookHandler {
	return decorator.ApplyCommand[RegisterWebhook](registerWebhookHandler{store, allowHTTPLoopback}, logger, m)
}

type registerWebhookHandler struct {
	store             WebhookRegistrar
	allowHTTPLoopback bool
}

func (h registerWebhookHandler) Handle(ctx context.Context, cmd RegisterWebhook) error {
	email, err := stockalert.ParseEmail(cmd.Email)
	if err != nil {
		return err
	}
	target, err := stockalert.ParseWebhookURL("url", cmd.URL, h.allowHTTPLoopback)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(cmd.Secret, "whsec_") {
		return fmt.Errorf("register webhook for %s: a Standard Webhooks secret (whsec_…) is required", email)
	}
	err = h.store.InTx(ctx, func(ctx context.Context) error {
		u, err := h.store.UserByEmail(ctx, email)
		if err != nil {
			return err
		}
		if err := h.store.SetChannelTarget(ctx, u.ID, stockalert.ChannelWebhook, target, cmd.Secret); err != nil {
			return err
		}
		return h.store.SetChannelEnabled(ctx, u.ID, stockalert.ChannelWebhook, true)
	})
	if err != nil {
		return fmt.Errorf("register webhook for %s: %w", email, err)
	}
	decorator.Report(ctx, slog.LevelInfo, "webhook registered",
		slog.String("event", "webhook-registered"), slog.String("email", string(email)))
	return nil
}
