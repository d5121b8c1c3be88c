package command

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// DefaultMaxChannelFailures is how many consecutive failed deliveries turn a channel off when
// LimitChannelFailures is given 0 (WEBHOOK_MAX_FAILURES).
const DefaultMaxChannelFailures = 10

// ChannelFailureStore counts a channel's consecutive failed deliveries and turns it off.
type ChannelFailureStore interface {
	Transactor
	// RecordChannelFailure counts one more consecutive failure and returns the count.
	RecordChannelFailure(ctx context.Context, userID int64, channel stockalert.Channel) (int, error)
	// ResetChannelFailures sets the count back to 0.
	ResetChannelFailures(ctx context.Context, userID int64, channel stockalert.Channel) error
	// DisableChannel turns the channel off, keeping reason for the user.
	DisableChannel(ctx context.Context, userID int64, channel stockalert.Channel, reason string) error
	outboxAppender
}

// LimitChannelFailures wraps ch so that its failures are counted per user: a delivery ch accepts sets
// the count back to 0; one that fails (transient or undeliverable, not stockalert.ErrChannelOff, the
// server's configuration) adds one, and at maxFailures (DefaultMaxChannelFailures when 0) in a row the
// channel is turned off for the user (stockalert.ChannelSettings.DisabledReason says why) and, in the
// same transaction, a notice is queued on topic (stockalert.TopicAlerts): an AlertEvent with Condition
// stockalert.WebhookDisabled and the reason as its Note, which alert-notifier delivers on the user's
// other channels (the disabled one is off). Each Deliver call counts once, whatever retries it made
// inside; a transient failure redelivered later counts again. ch's error is returned as it was; a
// failure to keep the count is joined to it (or returned alone after a success, so the delivery is
// retried: receivers dedupe by the alert's id).
func LimitChannelFailures(ch AlertChannel, store ChannelFailureStore, maxFailures int, topic string, now func() time.Time) AlertChannel {
	if maxFailures <= 0 {
		maxFailures = DefaultMaxChannelFailures
	}
	if now == nil {
		now = time.Now
	}
	return failureLimit{ch: ch, store: store, max: maxFailures, topic: topic, now: now}
}

type failureLimit struct {
	ch    AlertChannel
	store ChannelFailureStore
	max   int
	topic string
	now   func() time.Time
}

func (l failureLimit) Channel() stockalert.Channel { return l.ch.Channel() }

// bookkeepingTimeout bounds the count's writes, which run even when the delivery used up ctx.
const bookkeepingTimeout = 5 * time.Second

func (l failureLimit) Deliver(ctx context.Context, d ChannelDelivery) error {
	deliverErr := l.ch.Deliver(ctx, d)
	if errors.Is(deliverErr, stockalert.ErrChannelOff) {
		return deliverErr
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	channel := l.ch.Channel()
	if deliverErr == nil {
		if rerr := l.store.ResetChannelFailures(ctx, d.User.ID, channel); rerr != nil {
			return fmt.Errorf("%s delivered, but its failure count was not reset: %w", channel, rerr)
		}
		return nil
	}
	var disabled bool
	var failures int
	terr := l.store.InTx(ctx, func(ctx context.Context) error {
		n, err := l.store.RecordChannelFailure(ctx, d.User.ID, channel)
		if err != nil {
			return err
		}
		failures = n
		if n != l.max {
			return nil // below the limit; past it the channel is already off (once per turn-off)
		}
		reason := fmt.Sprintf("%d deliveries in a row failed; the last: %s", n, plainReason(deliverErr))
		if err := l.store.DisableChannel(ctx, d.User.ID, channel, reason); err != nil {
			return err
		}
		body, err := json.Marshal(stockalert.AlertEvent{
			EventID: disabledNoticeID(channel, d.User.ID, d.Alert.EventID), Email: d.User.Email,
			TelegramChatID: d.User.TelegramChatID, Condition: stockalert.WebhookDisabled, Note: reason, Time: l.now().UTC(),
		})
		if err != nil {
			return fmt.Errorf("encode the notice: %w", err)
		}
		if err := l.store.AppendOutbox(ctx, stockalert.OutboxMessage{Topic: l.topic, Key: string(d.User.Email), Value: body}); err != nil {
			return err
		}
		disabled = true
		return nil
	})
	if terr != nil {
		return errors.Join(deliverErr, fmt.Errorf("count the %s failure: %w", channel, terr))
	}
	if disabled {
		decorator.Report(ctx, slog.LevelWarn, "channel disabled after consecutive failures",
			slog.String("event", "channel-disabled"), slog.String("channel", string(channel)),
			slog.String("email", string(d.User.Email)), slog.Int("failures", failures))
	}
	return deliverErr
}

// plainReason is err's reason for the user when the channel gave one.
func plainReason(err error) string {
	var r UserReason
	if errors.As(err, &r) && r.UserReason() != "" {
		return r.UserReason()
	}
	if errors.Is(err, stockalert.ErrUndeliverable) {
		return "the alert was refused"
	}
	return "the alert could not be delivered"
}

func disabledNoticeID(channel stockalert.Channel, userID int64, eventID string) string {
	sum := sha256.Sum256([]byte(string(channel) + "-disabled/" + strconv.FormatInt(userID, 10) + "/" + eventID))
	return hex.EncodeToString(sum[:16])
}
