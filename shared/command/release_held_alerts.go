package command

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// ReleaseHeldAlerts queues, for every user whose quiet hours are over (or turned off) and who has
// alerts held during them, one summary event on the notifier's topic. The data-collector runs it on
// every cron run (every minute), so a summary follows the end of the quiet hours within a minute.
type ReleaseHeldAlerts struct{}

// HeldBatch is a user with held alerts and the time the latest of them was logged.
type HeldBatch struct {
	User   stockalert.User
	Latest time.Time
}

// HeldAlertsStore finds users with held alerts and queues events.
type HeldAlertsStore interface {
	// UsersWithHeldAlerts returns each user with alerts in delivery state held.
	UsersWithHeldAlerts(ctx context.Context) ([]HeldBatch, error)
	outboxAppender
}

// ReleaseHeldAlertsHandler handles ReleaseHeldAlerts; errors are store faults.
type ReleaseHeldAlertsHandler decorator.CommandHandler[ReleaseHeldAlerts]

// NewReleaseHeldAlertsHandler builds the handler: summaries go to topic (stockalert.TopicAlerts), keyed
// by the user's e-mail (one partition per user, as the alerts), now is the clock quiet hours are read
// against.
//
// The summary is an AlertEvent with Condition stockalert.QuietSummary, the user's e-mail, and as Time
// the latest held alert's log time: the notifier sums up the alerts held up to it and marks them sent.
// Its EventID, "quiet-<user id>-<Time in ms>", is derived from the user and what is held, so a run
// that queues it again (the notifier had not delivered it yet) queues the same event, which the
// notifier's log sends once (at-least-once queueing, one message).
func NewReleaseHeldAlertsHandler(store HeldAlertsStore, topic string, now func() time.Time, logger *slog.Logger, m *decorator.Metrics) ReleaseHeldAlertsHandler {
	if now == nil {
		now = time.Now
	}
	return decorator.ApplyCommand[ReleaseHeldAlerts](releaseHeldAlertsHandler{store, topic, now}, logger, m)
}

type releaseHeldAlertsHandler struct {
	store HeldAlertsStore
	topic string
	now   func() time.Time
}

// QuietSummaryID is the event id of the summary of user userID's alerts held up to latest.
func QuietSummaryID(userID int64, latest time.Time) string {
	return "quiet-" + strconv.FormatInt(userID, 10) + "-" + strconv.FormatInt(latest.UnixMilli(), 10)
}

func (h releaseHeldAlertsHandler) Handle(ctx context.Context, _ ReleaseHeldAlerts) error {
	batches, err := h.store.UsersWithHeldAlerts(ctx)
	if err != nil {
		return fmt.Errorf("release held alerts: %w", err)
	}
	now := h.now()
	var msgs []stockalert.OutboxMessage
	for _, b := range batches {
		if b.User.Quiet.Contains(now, b.User.Location()) {
			continue // still quiet
		}
		body, err := json.Marshal(stockalert.AlertEvent{EventID: QuietSummaryID(b.User.ID, b.Latest), Email: b.User.Email,
			TelegramChatID: b.User.TelegramChatID, Condition: stockalert.QuietSummary, Time: b.Latest})
		if err != nil {
			return fmt.Errorf("encode quiet-hours summary: %w", err)
		}
		msgs = append(msgs, stockalert.OutboxMessage{Topic: h.topic, Key: string(b.User.Email), Value: body})
	}
	if len(msgs) == 0 {
		return nil
	}
	if err := h.store.AppendOutbox(ctx, msgs...); err != nil {
		return fmt.Errorf("queue quiet-hours summaries: %w", err)
	}
	decorator.Report(ctx, slog.LevelInfo, "quiet-hours summaries queued", slog.String("event", "quiet-summaries-queued"),
		slog.Int("users", len(msgs)))
	return nil
}
