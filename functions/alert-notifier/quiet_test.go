package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

// TestQuietHoursHoldThenSummarise: through the shipped wiring, an alert raised during the user's quiet
// hours (a window around the present, so no waiting) is held, not sent; once the quiet hours are over
// the summary the data-collector queues (ReleaseHeldAlerts, with a clock set past the window) is sent
// as one message, once, and the held alert is then sent.
func TestQuietHoursHoldThenSummarise(t *testing.T) {
	t.Parallel()
	tg := telegramtest.NewServer(t, token)
	env := faastest.Env(t, map[string]string{"telegram-bot-token": token}, map[string]string{"TELEGRAM_API_URL": tg.URL()})
	registerLinked(t, env, 4343)
	store := faastest.Store(t, env)
	ctx := context.Background()
	now := time.Now().UTC()
	minute := now.Hour()*60 + now.Minute()
	window := stockalert.QuietHours{Set: true, Start: (minute + 24*60 - 60) % (24 * 60), End: (minute + 60) % (24 * 60)}
	require.NoError(t, command.NewSetQuietHoursHandler(store, nil, nil).Handle(ctx, command.SetQuietHours{ChatID: 4343, Quiet: window}))
	base := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire, env)

	require.Equal(t, http.StatusNoContent, deliver(t, base))
	require.Equal(t, http.StatusNoContent, deliver(t, base), "a redelivery")
	require.Empty(t, tg.Messages(), "held during quiet hours")
	st, err := store.DeliveryState(ctx, "a-1")
	require.NoError(t, err)
	require.Equal(t, stockalert.Held, st)

	release := command.NewReleaseHeldAlertsHandler(store, stockalert.TopicAlerts, func() time.Time { return now.Add(2 * time.Hour) }, nil, nil)
	require.NoError(t, release.Handle(ctx, command.ReleaseHeldAlerts{}))
	pending, err := store.PendingOutbox(ctx, stockalert.TopicAlerts, 10)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	var summary stockalert.AlertEvent
	require.NoError(t, json.Unmarshal(pending[0].Value, &summary))
	require.Equal(t, stockalert.QuietSummary, summary.Condition)

	// The notifier's own clock is still inside the window: a summary goes out all the same (it is
	// queued only once the window is over).
	for range 2 {
		status, _ := faastest.Call(t, http.MethodPost, base+"/", string(pending[0].Value), nil)
		require.Equal(t, http.StatusNoContent, status)
	}
	msgs := tg.Messages()
	require.Len(t, msgs, 1, "one summary, once")
	require.Equal(t, int64(4343), msgs[0].ChatID)
	require.Contains(t, msgs[0].Text, "🌙 Your quiet hours are over. 1 alert fired meanwhile (times in UTC):\n")
	require.Contains(t, msgs[0].Text, "AAPL is above your high threshold of 100.00, price 120.00")
	st, err = store.DeliveryState(ctx, "a-1")
	require.NoError(t, err)
	require.Equal(t, stockalert.Sent, st)
}
