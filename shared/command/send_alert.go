package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// SendAlert delivers an alert to the Telegram chat currently linked to the alert's user — never to a
// chat named only in the event — and logs the outcome. An alert already sent (or found undeliverable)
// is not sent again, so redelivered events are harmless.
type SendAlert struct {
	Alert stockalert.AlertEvent
}

// Messenger delivers a text to a chat.
type Messenger interface {
	// Send returns nil once the message is accepted; an error wrapping stockalert.ErrUndeliverable when
	// it never will be (chat gone, bot blocked); any other error is worth retrying.
	Send(ctx context.Context, chatID int64, text string) error
}

// AlertRecipients finds who an alert goes to and what happened to it before.
type AlertRecipients interface {
	// UserByEmail returns the user, or stockalert.ErrNotFound.
	UserByEmail(ctx context.Context, email stockalert.Email) (stockalert.User, error)
	// DeliveryState returns the logged state of an alert, or stockalert.ErrNotFound.
	DeliveryState(ctx context.Context, eventID string) (stockalert.DeliveryState, error)
}

// SendAlertHandler handles SendAlert: nil when the alert was sent, was sent before, or can never be
// delivered (logged as undeliverable; the user may have been deleted); *stockalert.ValidationError for a
// malformed alert; any other error means "retry later" (the attempt is logged as failed).
type SendAlertHandler decorator.CommandHandler[SendAlert]

// NewSendAlertHandler builds the handler. format renders the message text.
func NewSendAlertHandler(
	users AlertRecipients,
	messenger Messenger,
	format func(stockalert.AlertEvent) string,
	record RecordNotificationHandler,
	logger *slog.Logger,
	m *decorator.Metrics,
) SendAlertHandler {
	return decorator.ApplyCommand[SendAlert](sendAlertHandler{users, messenger, format, record}, logger, m)
}

type sendAlertHandler struct {
	users     AlertRecipients
	messenger Messenger
	format    func(stockalert.AlertEvent) string
	record    RecordNotificationHandler
}

func (h sendAlertHandler) Handle(ctx context.Context, cmd SendAlert) error {
	a := cmd.Alert
	if err := validEventID(a.EventID); err != nil {
		return err
	}
	email, err := stockalert.ParseEmail(string(a.Email))
	if err != nil {
		return err
	}
	state, err := h.users.DeliveryState(ctx, a.EventID)
	switch {
	case err == nil && state.Final():
		return nil // a redelivery of an alert already handled
	case err != nil && !errors.Is(err, stockalert.ErrNotFound):
		return fmt.Errorf("alert %s: delivery state: %w", a.EventID, err)
	}
	u, err := h.users.UserByEmail(ctx, email)
	if errors.Is(err, stockalert.ErrNotFound) {
		decorator.Report(ctx, slog.LevelInfo, "alert dropped: user no longer exists", slog.String("event_id", a.EventID))
		return nil
	}
	if err != nil {
		return fmt.Errorf("alert %s: find %s: %w", a.EventID, email, err)
	}
	entry := RecordNotification{Alert: a, UserID: u.ID, ChatID: u.TelegramChatID}
	var sendErr error
	if u.TelegramChatID == nil {
		entry.State, entry.Error = stockalert.Undeliverable, "no Telegram chat linked"
	} else {
		sendErr = h.messenger.Send(ctx, *u.TelegramChatID, h.format(a))
		switch {
		case sendErr == nil:
			entry.State = stockalert.Sent
		case errors.Is(sendErr, stockalert.ErrUndeliverable):
			entry.State, entry.Error = stockalert.Undeliverable, sendErr.Error()
		default:
			entry.State, entry.Error = stockalert.Failed, sendErr.Error()
		}
	}
	// The log write must not be cut short by the request's deadline once the message went out.
	if err := h.record.Handle(context.WithoutCancel(ctx), entry); err != nil {
		return fmt.Errorf("alert %s: %w", a.EventID, err)
	}
	if entry.State == stockalert.Failed {
		return fmt.Errorf("alert %s: send to chat %d: %w", a.EventID, *u.TelegramChatID, sendErr)
	}
	decorator.Report(ctx, slog.LevelInfo, "alert "+string(entry.State), slog.String("event", "alert-"+string(entry.State)),
		slog.String("ticker", string(a.Ticker)), slog.String("condition", string(a.Condition)), slog.Float64("price", a.Price),
		slog.Float64("threshold", a.Threshold), slog.String("reason", entry.Error))
	return nil
}
