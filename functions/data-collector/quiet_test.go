package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/data-collector/datacollectorapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// TestCronRunQueuesTheQuietHoursSummary: a user whose quiet hours are over (a window that ended an
// hour ago) and who has a held alert gets one summary event on to-notifier from the cron run, keyed by
// the user; a user still in quiet hours gets none.
func TestCronRunQueuesTheQuietHoursSummary(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	brokers := kafkatest.Embedded(t)
	env := faastest.Env(t, nil, map[string]string{
		"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL(), "KAFKA_BROKERS": strings.Join(brokers, ","),
	})
	ctx := context.Background()
	store := faastest.Store(t, env)
	now := time.Now().UTC()
	minute := now.Hour()*60 + now.Minute()
	at := func(offset int) int { return (minute + offset + 24*60) % (24 * 60) }
	for i, u := range []struct {
		email string
		quiet stockalert.QuietHours
	}{
		{"over@example.com", stockalert.QuietHours{Set: true, Start: at(-180), End: at(-60)}},
		{"still@example.com", stockalert.QuietHours{Set: true, Start: at(-60), End: at(60)}},
	} {
		chat := int64(600 + i)
		require.NoError(t, command.NewRegisterUserHandler(store, nil, nil).Handle(ctx, command.RegisterUser{
			Email: u.email, TelegramChatID: &chat, TokenHash: stockalert.HashSecret(u.email), LinkCodeHash: stockalert.HashSecret("c" + u.email)}))
		require.NoError(t, command.NewSetQuietHoursHandler(store, nil, nil).Handle(ctx, command.SetQuietHours{ChatID: chat, Quiet: u.quiet}))
		usr, err := store.UserByEmail(ctx, stockalert.Email(u.email))
		require.NoError(t, err)
		require.NoError(t, command.NewRecordNotificationHandler(store, nil, nil).Handle(ctx, command.RecordNotification{
			Alert: stockalert.AlertEvent{EventID: "held-" + u.email, Email: stockalert.Email(u.email), Ticker: "AAPL",
				Condition: stockalert.Above, Price: 2, Threshold: 1},
			UserID: usr.ID, ChatID: &chat, State: stockalert.Held, Reason: "quiet hours"}))
	}

	base := faastest.Run(t, datacollectorapp.Name, datacollectorapp.Wire, env)
	status, body := faastest.Call(t, http.MethodPost, base+"/", "", http.Header{"X-Connector": {"cron-connector"}})
	require.Equal(t, http.StatusOK, status, body)
	require.NotContains(t, body, "publish_error")
	msgs := kafkatest.Read(t, brokers, stockalert.TopicAlerts, 1, 30*time.Second)
	require.Len(t, msgs, 1)
	require.Equal(t, "over@example.com", string(msgs[0].Key))
	var ev stockalert.AlertEvent
	require.NoError(t, json.Unmarshal(msgs[0].Value, &ev))
	require.Equal(t, stockalert.QuietSummary, ev.Condition)
	require.Equal(t, stockalert.Email("over@example.com"), ev.Email)
	require.True(t, strings.HasPrefix(ev.EventID, "quiet-"), ev.EventID)
}
