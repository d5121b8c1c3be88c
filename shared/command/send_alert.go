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
	// it never will be (chat gone, bot blocked); an error implementing chatMigration when the chat has
	// a new id (nothing was sent); any other error is worth retrying.
	Send(ctx context.Context, chatID int64, text string) error
}

// chatMigration is implemented by a Messenger's error when the chat moved to a new id (a Telegram group
// upgraded to a supergroup): nothing was sent, and messages for from go to to now.
type chatMigration interface {
	MigratedTo() (from, to int64)
}

// maxChatMoves bounds how many new ids one delivery follows (a group upgraded once moves once).
const maxChatMoves = 2

// AlertRecipients finds who an alert goes to and what happened to it before.
type AlertRecipients interface {
	// UserByEmail returns the user, or stockalert.ErrNotFound.
	UserByEmail(ctx context.Context, email stockalert.Email) (stockalert.User, error)
	// DeliveryState returns the logged state of an alert, or stockalert.ErrNotFound.
	DeliveryState(ctx context.Context, eventID string) (stockalert.DeliveryState, error)
}

// SendAlertHandler handles SendAlert: nil when the alert was sent, was sent before, or can never be
// delivered (logged as undeliverable; the user may have been deleted); *stockalert.ValidationError for a
// malformed alert; any other error means "retry later" (the attempt is logged as failed). When the chat
// turns out to have moved (see MoveTelegramChat), the link is moved and the alert sent to the new chat
// in the same call, once.
type SendAlertHandler decorator.CommandHandler[SendAlert]

// NewSendAlertHandler builds the handler. format renders the message text; move follows a chat that
// moved.
func NewSendAlertHandler(
	users AlertRecipients,
	messenger Messenger,
	format func(stockalert.AlertEvent) string,
	record RecordNotificationHandler,
	move MoveTelegramChatHandler,
	logger *slog.Logger,
	m *decorator.Metrics,
) SendAlertHandler {
	return decorator.ApplyCommand[SendAlert](sendAlertHandler{users, messenger, format, record, move}, logger, m)
}

type sendAlertHandler struct {
	users     AlertRecipients
	messenger Messenger
	format    func(stockalert.AlertEvent) string
	record    RecordNotificationHandler
	move      MoveTelegramChatHandler
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
		var moved bool
		entry.ChatID, moved, sendErr = h.send(ctx, email, *u.TelegramChatID, h.format(a))
		switch {
		case moved:
			entry.State, entry.Error = stockalert.Undeliverable, sendErr.Error()
			sendErr = nil
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
		return fmt.Errorf("alert %s: send to chat %d: %w", a.EventID, *entry.ChatID, sendErr)
	}
	decorator.Report(ctx, slog.LevelInfo, "alert "+string(entry.State), slog.String("event", "alert-"+string(entry.State)),
		slog.String("ticker", string(a.Ticker)), slog.String("condition", string(a.Condition)), slog.Float64("price", a.Price),
		slog.Float64("threshold", a.Threshold), slog.String("reason", entry.Error))
	return nil
}

// send sends text to chat, following the chat to its new id when the messenger says it moved: the
// link moves first (so later alerts and the bot's commands find it), then the text goes to the new id.
// It returns the chat it last tried and Send's error; gone is true (with an error saying why) when the
// new chat belongs to another account now, so the alert cannot be delivered to this one.
func (h sendAlertHandler) send(ctx context.Context, email stockalert.Email, chat int64, text string) (last *int64, gone bool, err error) {
	err = h.messenger.Send(ctx, chat, text)
	for range maxChatMoves {
		var mig chatMigration
		if err == nil || !errors.As(err, &mig) {
			break
		}
		from, to := mig.MigratedTo()
		if merr := h.move.Handle(ctx, MoveTelegramChat{From: from, To: to}); merr != nil {
			return &chat, false, fmt.Errorf("follow the chat to its new id: %w (after: %w)", merr, err)
		}
		u, uerr := h.users.UserByEmail(ctx, email)
		if uerr != nil {
			return &chat, false, fmt.Errorf("read the user back after moving chat %d to %d: %w", from, to, uerr)
		}
		if u.TelegramChatID == nil || *u.TelegramChatID != to {
			return &chat, true, fmt.Errorf("chat %d moved to chat %d, which is linked to another account", from, to)
		}
		chat = to
		err = h.messenger.Send(ctx, chat, text)
	}
	return &chat, false, err
}
