package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// SendAlert delivers an alert to the Telegram chat currently linked to the alert's user — never to a
// chat named only in the event — and logs the outcome. An alert already sent (or found undeliverable)
// is not sent again, so redelivered events are harmless.
//
// Before it calls Telegram a delivery claims the alert id in the notification log (state "sending",
// for a lease: the request's remaining time plus DeliveryLeaseMargin, or DefaultDeliveryLease without
// a deadline), so two deliveries of one alert at once — a redelivery racing the first, or copies from
// two relays — send one message: the other answers stockalert.ErrInFlight (retry later) and, retried,
// finds the alert sent. A process that dies holding a claim leaves the alert to the next delivery once
// the lease has passed. What is not covered: a crash after Telegram accepted the message and before
// the log says so, when the next delivery sends that one message again (at-least-once).
type SendAlert struct {
	Alert stockalert.AlertEvent
}

// Quiet hours: while the user's quiet hours (stockalert.User.Quiet, read in their zone) contain the
// handler's clock, an alert is logged as stockalert.Held (reason "quiet hours") and not sent; a
// redelivery of a held alert does nothing. A stockalert.QuietSummary event (queued by
// ReleaseHeldAlerts once the quiet hours are over) is delivered as one message summing up the alerts
// held up to its Time, like an alert (claimed, sent once, logged under its own event id); then those
// alerts take the summary's state (sent, or undeliverable when the chat is gone).
//
// DefaultDeliveryLease is how long a delivery without a deadline holds its claim on an alert; its send
// is bounded to end before. DeliveryLeaseMargin is added to a request's remaining time.
const (
	DefaultDeliveryLease = 30 * time.Second
	DeliveryLeaseMargin  = 5 * time.Second
)

// DeliveryClaim asks for the right to send Alert to user UserID's chat ChatID for Lease.
type DeliveryClaim struct {
	Alert  stockalert.AlertEvent
	UserID int64
	ChatID *int64
	Lease  time.Duration
}

// Messenger delivers a text to a chat.
type Messenger interface {
	// Send returns nil once the message is accepted; an error wrapping stockalert.ErrUndeliverable when
	// it never will be (chat gone, bot blocked); an error implementing chatMigration when the chat has
	// a new id (nothing was sent); any other error is worth retrying.
	Send(ctx context.Context, chatID int64, text string, keyboard ...[]stockalert.ChatButton) error
}

// ChatMessage is an alert as a chat shows it: its text and, when not nil, rows of buttons under it
// (Telegram's inline keyboard).
type ChatMessage struct {
	Text     string
	Keyboard [][]stockalert.ChatButton
}

// TextOnly renders alerts with text, as messages without buttons.
func TextOnly(text func(stockalert.AlertEvent, *time.Location) string) func(stockalert.AlertEvent, *time.Location) ChatMessage {
	return func(ev stockalert.AlertEvent, loc *time.Location) ChatMessage {
		return ChatMessage{Text: text(ev, loc)}
	}
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
	// ClaimDelivery claims the alert's delivery in the notification log, atomically: claimed is true
	// when it was never logged, failed before, or a previous claim's lease has passed; otherwise prev
	// is the state found (final, or Sending while another delivery holds it).
	ClaimDelivery(ctx context.Context, c DeliveryClaim) (prev stockalert.DeliveryState, claimed bool, err error)
	// HeldAlerts returns the user's alerts in state held logged up to upTo, oldest first.
	HeldAlerts(ctx context.Context, userID int64, upTo time.Time) ([]stockalert.AlertEvent, error)
	// ResolveHeld gives the user's held alerts logged up to upTo the state of their summary and
	// returns how many it changed.
	ResolveHeld(ctx context.Context, userID int64, upTo time.Time, state stockalert.DeliveryState) (int64, error)
}

// SendAlertOption changes how NewSendAlertHandler's handler works.
type SendAlertOption func(*sendAlertHandler)

// SendAlertClock sets the clock quiet hours are read against (default time.Now).
func SendAlertClock(now func() time.Time) SendAlertOption {
	return func(h *sendAlertHandler) { h.now = now }
}

// QuietSummaryFormat sets how the summary of the alerts held during quiet hours is written, in the
// user's zone (default: a line saying how many fired).
func QuietSummaryFormat(f func(held []stockalert.AlertEvent, loc *time.Location) string) SendAlertOption {
	return func(h *sendAlertHandler) { h.summary = f }
}

// SendAlertHandler handles SendAlert: nil when the alert was sent, was sent before, or can never be
// delivered (logged as undeliverable; the user may have been deleted); *stockalert.ValidationError for a
// malformed alert; an error wrapping stockalert.ErrInFlight while another delivery of it is under way;
// any other error means "retry later" (the attempt is logged as failed). When the chat turns out to
// have moved (see MoveTelegramChat), the link is moved and the alert sent to the new chat in the same
// call, once.
type SendAlertHandler decorator.CommandHandler[SendAlert]

// NewSendAlertHandler builds the handler. format renders the message (its text, with its times in the
// user's zone (stockalert.User.Location), and its buttons; see TextOnly for text alone); move follows
// a chat that moved.
func NewSendAlertHandler(
	users AlertRecipients,
	messenger Messenger,
	format func(stockalert.AlertEvent, *time.Location) ChatMessage,
	record RecordNotificationHandler,
	move MoveTelegramChatHandler,
	logger *slog.Logger,
	m *decorator.Metrics,
	opts ...SendAlertOption,
) SendAlertHandler {
	h := sendAlertHandler{users: users, messenger: messenger, format: format, record: record, move: move, now: time.Now,
		summary: func(held []stockalert.AlertEvent, _ *time.Location) string {
			return fmt.Sprintf("Your quiet hours are over: %d alerts fired meanwhile.", len(held))
		}}
	for _, o := range opts {
		o(&h)
	}
	return decorator.ApplyCommand[SendAlert](h, logger, m)
}

type sendAlertHandler struct {
	users     AlertRecipients
	messenger Messenger
	format    func(stockalert.AlertEvent, *time.Location) ChatMessage
	record    RecordNotificationHandler
	move      MoveTelegramChatHandler
	now       func() time.Time
	summary   func([]stockalert.AlertEvent, *time.Location) string

	channelLog ChannelLog
	channels   map[stockalert.Channel]AlertChannel
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
	telegramDone := false
	state, err := h.users.DeliveryState(ctx, a.EventID)
	switch {
	case err == nil && state.Final() && a.Condition == stockalert.QuietSummary:
		// The summary went out; make sure what it summed up is marked too (a crash in between).
		return h.resolveHeld(ctx, email, a, state)
	case err == nil && state == stockalert.Held:
		return nil // held for the quiet hours' summary
	case err == nil && state.Final() && h.channelLog == nil:
		return nil // a redelivery of an alert already handled
	case err == nil && state.Final():
		telegramDone = true // a redelivery: the other channels may still owe it
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
	loc := u.Location()
	lease := DefaultDeliveryLease
	sendCtx := ctx
	if deadline, ok := ctx.Deadline(); ok {
		lease = time.Until(deadline) + DeliveryLeaseMargin
	} else {
		var cancel context.CancelFunc
		sendCtx, cancel = context.WithTimeout(ctx, lease-DeliveryLeaseMargin)
		defer cancel()
	}
	if a.Condition == stockalert.QuietSummary {
		return h.sendSummary(ctx, sendCtx, email, a, u, lease)
	}
	settings, err := h.settings(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("alert %s: %w", a.EventID, err)
	}
	telegram := settings[stockalert.ChannelTelegram]
	if !telegramDone && telegram.Enabled && u.TelegramChatID != nil && u.Quiet.Contains(h.now(), loc) {
		// Quiet hours hold the alert on every channel; the summary comes on Telegram.
		entry := RecordNotification{Alert: a, UserID: u.ID, ChatID: u.TelegramChatID, State: stockalert.Held, Reason: "quiet hours"}
		if err := h.record.Handle(ctx, entry); err != nil {
			return fmt.Errorf("alert %s: %w", a.EventID, err)
		}
		decorator.Report(ctx, slog.LevelInfo, "alert held", slog.String("event", "alert-held"), slog.String("email", string(email)),
			slog.String("ticker", string(a.Ticker)), slog.String("condition", string(a.Condition)),
			slog.String("quiet_hours", u.Quiet.String()), slog.String("time_zone", loc.String()))
		return nil
	}
	var (
		entry RecordNotification
		tgErr error
	)
	// Telegram needs a linked chat: without one the alert is logged undeliverable there ("no Telegram
	// chat linked"), unless another channel takes it.
	if !telegramDone && telegram.Enabled && stockalert.Includes(a.Channels, stockalert.ChannelTelegram) &&
		(u.TelegramChatID != nil || !h.anyOther(a, settings)) {
		entry, tgErr = h.deliverTelegram(ctx, sendCtx, email, a, u, lease, h.format(a, loc))
	}
	channels, chErr := h.fanOut(ctx, sendCtx, a, u, settings, lease)
	if err := errors.Join(tgErr, chErr); err != nil {
		return fmt.Errorf("alert %s: %w", a.EventID, err)
	}
	outcome := entry.State
	if outcome == "" {
		outcome = stockalert.Sent
		if channels == "" {
			outcome = "skipped"
		}
	}
	decorator.Report(ctx, slog.LevelInfo, "alert "+string(outcome), slog.String("event", "alert-"+string(outcome)),
		slog.String("ticker", string(a.Ticker)), slog.String("condition", string(a.Condition)), slog.Float64("price", a.Price),
		slog.Float64("threshold", a.Threshold), slog.String("reason", entry.Error), slog.String("channels", channels))
	return nil
}

// sendSummary delivers a quiet-hours summary on Telegram, then gives the alerts it sums up its state.
func (h sendAlertHandler) sendSummary(ctx, sendCtx context.Context, email stockalert.Email, a stockalert.AlertEvent,
	u stockalert.User, lease time.Duration,
) error {
	held, err := h.users.HeldAlerts(ctx, u.ID, a.Time)
	if err != nil {
		return fmt.Errorf("alert %s: %w", a.EventID, err)
	}
	if len(held) == 0 {
		return nil // summed up by an earlier summary
	}
	entry, err := h.deliverTelegram(ctx, sendCtx, email, a, u, lease, ChatMessage{Text: h.summary(held, u.Location())})
	if err != nil {
		return fmt.Errorf("alert %s: %w", a.EventID, err)
	}
	if entry.State == "" {
		return nil // handled meanwhile by a concurrent delivery
	}
	n, err := h.users.ResolveHeld(context.WithoutCancel(ctx), u.ID, a.Time, entry.State)
	if err != nil {
		return fmt.Errorf("alert %s: %w", a.EventID, err)
	}
	decorator.Report(ctx, slog.LevelInfo, "quiet-hours summary "+string(entry.State), slog.String("event", "quiet-summary-"+string(entry.State)),
		slog.String("email", string(email)), slog.Int64("alerts", n), slog.String("reason", entry.Error))
	return nil
}

// deliverTelegram claims a's delivery in the notification log, sends msg to the user's chat and logs the
// outcome. It returns the entry logged (State "" when a concurrent delivery had handled the alert) and
// an error when the alert is to be delivered again: stockalert.ErrInFlight while another delivery holds
// the claim, or the transient fault.
func (h sendAlertHandler) deliverTelegram(ctx, sendCtx context.Context, email stockalert.Email, a stockalert.AlertEvent,
	u stockalert.User, lease time.Duration, msg ChatMessage,
) (RecordNotification, error) {
	entry := RecordNotification{Alert: a, UserID: u.ID, ChatID: u.TelegramChatID}
	var sendErr error
	if u.TelegramChatID == nil {
		entry.State, entry.Error, entry.Reason = stockalert.Undeliverable, "no Telegram chat linked", "no Telegram chat linked"
	} else {
		prev, claimed, err := h.users.ClaimDelivery(ctx, DeliveryClaim{Alert: a, UserID: u.ID, ChatID: u.TelegramChatID, Lease: lease})
		switch {
		case err != nil:
			return RecordNotification{}, err
		case !claimed && prev.Final():
			return RecordNotification{}, nil // handled meanwhile by a concurrent delivery
		case !claimed:
			return RecordNotification{}, stockalert.ErrInFlight
		}
		var moved bool
		entry.ChatID, moved, sendErr = h.send(sendCtx, email, *u.TelegramChatID, msg)
		switch {
		case moved:
			entry.State, entry.Error = stockalert.Undeliverable, sendErr.Error()
			entry.Reason = "the Telegram chat moved to a chat linked to another account"
			sendErr = nil
		case sendErr == nil:
			entry.State = stockalert.Sent
		case errors.Is(sendErr, stockalert.ErrChannelOff):
			entry.State, entry.Error, entry.Reason = stockalert.Undeliverable, sendErr.Error(), "Telegram is not configured on this server"
		case errors.Is(sendErr, stockalert.ErrUndeliverable):
			entry.State, entry.Error = stockalert.Undeliverable, sendErr.Error()
			entry.Reason = "Telegram refused the chat (the bot was blocked, or the chat is gone)"
		default:
			entry.State, entry.Error = stockalert.Failed, sendErr.Error()
		}
	}
	// The log write must not be cut short by the request's deadline once the message went out.
	if err := h.record.Handle(context.WithoutCancel(ctx), entry); err != nil {
		return entry, err
	}
	decorator.CountDelivery(ctx, string(stockalert.ChannelTelegram), string(entry.State))
	if entry.State == stockalert.Failed {
		return entry, fmt.Errorf("send to chat %d: %w", *entry.ChatID, sendErr)
	}
	return entry, nil
}

// resolveHeld gives the alerts a summary delivered earlier summed up its final state.
func (h sendAlertHandler) resolveHeld(ctx context.Context, email stockalert.Email, a stockalert.AlertEvent, state stockalert.DeliveryState) error {
	u, err := h.users.UserByEmail(ctx, email)
	if errors.Is(err, stockalert.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("alert %s: find %s: %w", a.EventID, email, err)
	}
	if _, err := h.users.ResolveHeld(ctx, u.ID, a.Time, state); err != nil {
		return fmt.Errorf("alert %s: %w", a.EventID, err)
	}
	return nil
}

// send sends msg to chat, following the chat to its new id when the messenger says it moved: the
// link moves first (so later alerts and the bot's commands find it), then the message goes to the new id.
// It returns the chat it last tried and Send's error; gone is true (with an error saying why) when the
// new chat belongs to another account now, so the alert cannot be delivered to this one.
func (h sendAlertHandler) send(ctx context.Context, email stockalert.Email, chat int64, msg ChatMessage) (last *int64, gone bool, err error) {
	err = h.messenger.Send(ctx, chat, msg.Text, msg.Keyboard...)
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
		err = h.messenger.Send(ctx, chat, msg.Text, msg.Keyboard...)
	}
	return &chat, false, err
}
