package command_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/internal/logcapture"
	"github.com/stockalert/stockalert/shared/alertmessage"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

// clock is a settable clock for the handlers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// During quiet hours (22:00-07:00 in Paris) alerts are held, not sent, and a redelivery sends nothing;
// while they last the collector's release queues nothing. Once they are over it queues one summary
// (the same event if it runs again before the notifier sends it), which the notifier sends as one
// message; the held alerts are then sent, and a redelivered summary sends nothing.
func TestQuietHoursHoldThenOneSummary(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC)} // 00:00 in Paris
	store := storetest.Open(t, sqlstore.WithClock(clk.Now))
	tg := telegramtest.NewServer(t, botToken)
	sender, err := telegram.NewSender(botToken, tg.URL(), telegram.WithTimeout(2*time.Second))
	require.NoError(t, err)
	var logs logcapture.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	send := command.NewSendAlertHandler(store, sender, command.TextOnly(alertmessage.Text), command.NewRecordNotificationHandler(store, logger, nil),
		command.NewMoveTelegramChatHandler(store, logger, nil), logger, nil,
		command.SendAlertClock(clk.Now), command.QuietSummaryFormat(alertmessage.Summary))
	release := command.NewReleaseHeldAlertsHandler(store, stockalert.TopicAlerts, clk.Now, logger, nil)
	r := &notifierRig{store: store, tg: tg, send: send}
	r.user(t, "nora@example.com", 120)
	ctx := context.Background()
	require.NoError(t, command.NewSetTimeZoneHandler(store, logger, nil).Handle(ctx, command.SetTimeZone{ChatID: 120, Zone: "Europe/Paris"}))
	require.NoError(t, command.NewSetQuietHoursHandler(store, logger, nil).Handle(ctx,
		command.SetQuietHours{ChatID: 120, Quiet: stockalert.QuietHours{Set: true, Start: 22 * 60, End: 7 * 60}}))
	// The console's lines (an "event" attribute), naming the user.
	require.Contains(t, logs.String(), `"msg":"time zone set"`)
	require.Contains(t, logs.String(), `"event":"time-zone-set","email":"nora@example.com","time_zone":"Europe/Paris"`)
	require.Contains(t, logs.String(), `"event":"quiet-hours-set","email":"nora@example.com","quiet_hours":"22:00-07:00","time_zone":"Europe/Paris"`)

	a1 := alert("q1", "nora@example.com", nil)
	a1.Time = time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC)
	a2 := alert("q2", "nora@example.com", nil)
	a2.Price, a2.Time = 103, time.Date(2026, 3, 3, 4, 30, 0, 0, time.UTC)
	// The alert system records each alert in the history before it publishes it.
	u, err := store.UserByEmail(ctx, "nora@example.com")
	require.NoError(t, err)
	require.NoError(t, store.RecordAlerts(ctx, []command.RaisedAlert{{UserID: u.ID, RuleID: 1, Event: a1}, {UserID: u.ID, RuleID: 1, Event: a2}}))
	require.NoError(t, send.Handle(ctx, command.SendAlert{Alert: a1}))
	require.NoError(t, send.Handle(ctx, command.SendAlert{Alert: a1}), "a redelivery")
	clk.Set(time.Date(2026, 3, 3, 4, 30, 0, 0, time.UTC))
	require.NoError(t, send.Handle(ctx, command.SendAlert{Alert: a2}))
	require.Empty(t, tg.Messages(), "nothing is sent during quiet hours")
	log := r.state(t, "nora@example.com")
	require.Len(t, log, 2)
	require.Equal(t, stockalert.Held, log[0].State)
	require.Equal(t, "quiet hours", log[0].Reason)
	require.Contains(t, logs.String(), `"event":"alert-held"`)
	require.Contains(t, logs.String(), `"email":"nora@example.com"`)

	history := query.NewAlertHistoryHandler(store, nil, nil)
	h, err := history.Handle(ctx, query.AlertHistory{Email: "nora@example.com"})
	require.NoError(t, err)
	require.Len(t, h, 2)
	require.Equal(t, []query.Delivery{{Channel: "telegram", Outcome: query.OutcomeHeld, Reason: "quiet hours"}}, h[0].Deliveries)

	require.NoError(t, release.Handle(ctx, command.ReleaseHeldAlerts{}))
	pending, err := store.PendingOutbox(ctx, stockalert.TopicAlerts, 10)
	require.NoError(t, err)
	require.Empty(t, pending, "still quiet (05:30 in Paris): no summary yet")

	clk.Set(time.Date(2026, 3, 3, 6, 0, 0, 0, time.UTC)) // 07:00 in Paris: over
	require.NoError(t, release.Handle(ctx, command.ReleaseHeldAlerts{}))
	require.NoError(t, release.Handle(ctx, command.ReleaseHeldAlerts{}), "a second run before the notifier sent it")
	pending, err = store.PendingOutbox(ctx, stockalert.TopicAlerts, 10)
	require.NoError(t, err)
	require.Len(t, pending, 2)
	var s1, s2 stockalert.AlertEvent
	require.NoError(t, json.Unmarshal(pending[0].Value, &s1))
	require.NoError(t, json.Unmarshal(pending[1].Value, &s2))
	require.Equal(t, s1.EventID, s2.EventID, "the same summary event: sent once")
	require.Equal(t, stockalert.QuietSummary, s1.Condition)
	require.Equal(t, "nora@example.com", pending[0].Key, "keyed by user")

	require.NoError(t, send.Handle(ctx, command.SendAlert{Alert: s1}))
	require.NoError(t, send.Handle(ctx, command.SendAlert{Alert: s2}))
	msgs := tg.Messages()
	require.Len(t, msgs, 1, "one summary")
	require.Equal(t, int64(120), msgs[0].ChatID)
	require.Equal(t, `🌙 Your quiet hours are over. 2 alerts fired meanwhile (times in CET):
00:00 AAPL is above your high threshold of 100.00 USD, price 101.50 USD
05:30 AAPL is above your high threshold of 100.00 USD, price 103.00 USD`, msgs[0].Text)
	for _, n := range r.state(t, "nora@example.com") {
		require.Equal(t, stockalert.Sent, n.State, n.EventID)
	}
	require.Contains(t, logs.String(), `"event":"quiet-summary-sent"`)
	h, err = history.Handle(ctx, query.AlertHistory{Email: "nora@example.com"})
	require.NoError(t, err)
	require.Equal(t, query.OutcomeSent, h[0].Deliveries[0].Outcome)
	require.Equal(t, query.OutcomeSent, h[1].Deliveries[0].Outcome)

	// Nothing is held now: the next run queues nothing, and a late redelivery of a held alert sends nothing.
	require.NoError(t, send.Handle(ctx, command.SendAlert{Alert: a1}))
	require.NoError(t, release.Handle(ctx, command.ReleaseHeldAlerts{}))
	after, err := store.PendingOutbox(ctx, stockalert.TopicAlerts, 10)
	require.NoError(t, err)
	require.Len(t, after, 2, "no new summary")
	require.Len(t, tg.Messages(), 1)

	// Outside quiet hours alerts go straight out.
	a3 := alert("q3", "nora@example.com", nil)
	require.NoError(t, send.Handle(ctx, command.SendAlert{Alert: a3}))
	require.Len(t, tg.Messages(), 2)
}
