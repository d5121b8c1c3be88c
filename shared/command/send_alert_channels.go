package command

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Fan-out: besides Telegram (the notification log, above), SendAlert delivers an alert over every other
// channel the user enabled (e-mail only once its address is confirmed) that the alert's rule names
// (AlertEvent.Channels; none named: all), through the AlertChannel given for it with Channels. Each
// (alert, channel) is its own delivery in the delivery log, claimed and recorded like Telegram's: a
// channel already final (sent, undeliverable) is skipped when the alert is delivered again, a channel
// that failed is tried again, and no channel's outcome holds up another. A channel enabled without an
// AlertChannel on this server is logged undeliverable ("… is not configured on this server").

// ChannelLog reads a user's channel settings and keeps the delivery log of the channels beside
// Telegram (the store implements it).
type ChannelLog interface {
	// ChannelSettings returns the user's settings of every channel, in stockalert.Channels order.
	ChannelSettings(ctx context.Context, userID int64) ([]stockalert.ChannelSettings, error)
	// ClaimChannelDelivery claims a delivery in the log, atomically: claimed is true when it was never
	// logged, failed before, or a previous claim's lease has passed; otherwise prev is the state found.
	ClaimChannelDelivery(ctx context.Context, c ChannelClaim) (prev stockalert.DeliveryState, claimed bool, err error)
	// RecordChannelDelivery writes a delivery attempt's outcome, ending its claim.
	RecordChannelDelivery(ctx context.Context, o ChannelOutcome) error
}

// UserReason is implemented by an AlertChannel's error that can say in plain words, for the user's
// alert history, why the alert will never be delivered ("the mail server refused the address").
type UserReason interface {
	UserReason() string
}

// Channels makes SendAlert fan alerts out over the channels beside Telegram: log holds the users'
// settings and the delivery log, channels the adapters (one per channel; a later one for the same
// channel replaces an earlier). Without this option SendAlert delivers on Telegram alone, as if every
// user had enabled Telegram only.
func Channels(log ChannelLog, channels ...AlertChannel) SendAlertOption {
	return func(h *sendAlertHandler) {
		h.channelLog = log
		h.channels = map[stockalert.Channel]AlertChannel{}
		for _, c := range channels {
			h.channels[c.Channel()] = c
		}
	}
}

// channelNames are the channels as the user's history and errors name them.
var channelNames = map[stockalert.Channel]string{
	stockalert.ChannelTelegram: "Telegram",
	stockalert.ChannelEmail:    "e-mail",
	stockalert.ChannelWebhook:  "the webhook",
}

// ChannelName returns the channel's name in plain words ("e-mail", "the webhook", "Telegram").
func ChannelName(c stockalert.Channel) string {
	if n, ok := channelNames[c]; ok {
		return n
	}
	return string(c)
}

// NotConfiguredReason is the user's reason for an alert a channel could not take because the channel is
// not configured on this server.
func NotConfiguredReason(c stockalert.Channel) string {
	if c == stockalert.ChannelWebhook {
		return "webhooks are not configured on this server"
	}
	return ChannelName(c) + " is not configured on this server"
}

// settings returns the user's settings by channel: Telegram alone, enabled, without a channel log.
func (h sendAlertHandler) settings(ctx context.Context, userID int64) (map[stockalert.Channel]stockalert.ChannelSettings, error) {
	out := map[stockalert.Channel]stockalert.ChannelSettings{
		stockalert.ChannelTelegram: {Channel: stockalert.ChannelTelegram, Enabled: true, Verified: true},
	}
	if h.channelLog == nil {
		return out, nil
	}
	all, err := h.channelLog.ChannelSettings(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		out[s.Channel] = s
	}
	return out, nil
}

// anyOther reports whether a goes to a channel beside Telegram.
func (h sendAlertHandler) anyOther(a stockalert.AlertEvent, settings map[stockalert.Channel]stockalert.ChannelSettings) bool {
	if h.channelLog == nil {
		return false
	}
	for _, c := range stockalert.Channels {
		if c != stockalert.ChannelTelegram && settings[c].Enabled && stockalert.Includes(a.Channels, c) {
			return true
		}
	}
	return false
}

// fanOut delivers a over every channel beside Telegram that settings and the alert's rule want. It
// returns one "channel=state" word per channel tried (for the log line) and an error joining the
// transient ones (stockalert.ErrInFlight among them while another delivery holds a channel's claim).
// sendCtx bounds the sends; ctx the log's reads and writes.
func (h sendAlertHandler) fanOut(ctx, sendCtx context.Context, a stockalert.AlertEvent, u stockalert.User,
	settings map[stockalert.Channel]stockalert.ChannelSettings, lease time.Duration,
) (string, error) {
	if h.channelLog == nil {
		return "", nil
	}
	var (
		words []string
		errs  []error
	)
	for _, c := range stockalert.Channels {
		s := settings[c]
		if c == stockalert.ChannelTelegram || !s.Enabled || !stockalert.Includes(a.Channels, c) {
			continue
		}
		state, err := h.deliverOver(ctx, sendCtx, a, u, s, lease)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c, err))
		}
		if state != "" {
			words = append(words, string(c)+"="+string(state))
		}
	}
	return strings.Join(words, " "), errors.Join(errs...)
}

// deliverOver claims, sends and records one channel's delivery; state is "" when there was nothing to do.
func (h sendAlertHandler) deliverOver(ctx, sendCtx context.Context, a stockalert.AlertEvent, u stockalert.User,
	s stockalert.ChannelSettings, lease time.Duration,
) (stockalert.DeliveryState, error) {
	prev, claimed, err := h.channelLog.ClaimChannelDelivery(ctx, ChannelClaim{EventID: a.EventID, Channel: s.Channel, UserID: u.ID, Lease: lease})
	switch {
	case err != nil:
		return "", err
	case !claimed && prev.Final():
		return "", nil // delivered before
	case !claimed:
		return stockalert.Sending, stockalert.ErrInFlight
	}
	out := ChannelOutcome{EventID: a.EventID, Channel: s.Channel, UserID: u.ID}
	adapter, ok := h.channels[s.Channel]
	var sendErr error
	switch {
	case !ok:
		out.State, out.Error, out.Reason = stockalert.Undeliverable, "no "+string(s.Channel)+" adapter on this server", NotConfiguredReason(s.Channel)
	case s.Channel == stockalert.ChannelEmail && !s.Verified:
		out.State, out.Error = stockalert.Undeliverable, "the address is not confirmed"
		out.Reason = "the e-mail address is not confirmed yet"
	default:
		sendErr = adapter.Deliver(sendCtx, ChannelDelivery{Alert: a, User: u, Settings: s, Location: u.Location()})
		var why UserReason
		switch {
		case sendErr == nil:
			out.State = stockalert.Sent
		case errors.Is(sendErr, stockalert.ErrChannelOff):
			out.State, out.Error, out.Reason = stockalert.Undeliverable, sendErr.Error(), NotConfiguredReason(s.Channel)
		case errors.Is(sendErr, stockalert.ErrUndeliverable):
			out.State, out.Error = stockalert.Undeliverable, sendErr.Error()
			out.Reason = ChannelName(s.Channel) + " refused the alert"
			if errors.As(sendErr, &why) && why.UserReason() != "" {
				out.Reason = why.UserReason()
			}
		default:
			out.State, out.Error = stockalert.Failed, sendErr.Error()
		}
	}
	out.Error, out.Reason = truncate(out.Error, MaxNotificationError), truncate(out.Reason, MaxNotificationReason)
	// The log write must not be cut short by the request's deadline once the alert went out.
	if err := h.channelLog.RecordChannelDelivery(context.WithoutCancel(ctx), out); err != nil {
		return out.State, err
	}
	decorator.CountDelivery(ctx, string(s.Channel), string(out.State))
	if out.State == stockalert.Failed {
		return out.State, fmt.Errorf("deliver: %w", sendErr)
	}
	return out.State, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
