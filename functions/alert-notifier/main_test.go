package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/faas/faastest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

func registerLinked(t *testing.T, env map[string]string, chat int64) {
	t.Helper()
	ctx := context.Background()
	store := faastest.Store(t, env)
	require.NoError(t, command.NewRegisterUserHandler(store, nil, nil).Handle(ctx, command.RegisterUser{
		Email: "smoke@example.com", Ticker: "AAPL", TelegramChatID: &chat,
		TokenHash: stockalert.HashSecret("t"), LinkCodeHash: stockalert.HashSecret("c")}))
}

func deliver(t *testing.T, base string) int {
	t.Helper()
	body, _ := json.Marshal(stockalert.AlertEvent{EventID: "a-1", Email: "smoke@example.com", Ticker: "AAPL",
		Condition: stockalert.Above, Price: 120, Currency: "USD", Threshold: 100, Time: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)})
	status, _ := faastest.Call(t, http.MethodPost, base+"/", string(body), nil)
	return status
}

// TestSmoke runs the function as main does, with its token as a secret file and the fake Bot API, and
// delivers an alert as the connector would, twice.
func TestSmoke(t *testing.T) {
	t.Parallel()
	tg := telegramtest.NewServer(t, token)
	env := faastest.Env(t, map[string]string{"telegram-bot-token": token}, map[string]string{"TELEGRAM_API_URL": tg.URL()})
	registerLinked(t, env, 4242)
	base := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire, env)

	require.Equal(t, http.StatusNoContent, deliver(t, base))
	require.Equal(t, http.StatusNoContent, deliver(t, base), "a redelivery")
	msgs := tg.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, int64(4242), msgs[0].ChatID)
	require.Contains(t, msgs[0].Text, "AAPL is above")
}

// TestDryRun: without a token nothing is sent, and the alert is acknowledged.
func TestDryRun(t *testing.T) {
	t.Parallel()
	tg := telegramtest.NewServer(t, token)
	env := faastest.Env(t, nil, map[string]string{"TELEGRAM_API_URL": tg.URL()})
	registerLinked(t, env, 4242)
	base := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire, env)
	require.Equal(t, http.StatusNoContent, deliver(t, base))
	require.Empty(t, tg.Messages())
}

// TestMigratedGroup: the linked group became a supergroup. Through the shipped wiring the alert
// arrives once, at the supergroup, a redelivery sends nothing, and the user's link names the new id.
func TestMigratedGroup(t *testing.T) {
	t.Parallel()
	tg := telegramtest.NewServer(t, token)
	env := faastest.Env(t, map[string]string{"telegram-bot-token": token}, map[string]string{"TELEGRAM_API_URL": tg.URL()})
	const group, supergroup = int64(-4201), int64(-1004201004201)
	registerLinked(t, env, group)
	tg.MigrateChat(group, supergroup)
	base := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire, env)

	require.Equal(t, http.StatusNoContent, deliver(t, base))
	require.Equal(t, http.StatusNoContent, deliver(t, base), "a redelivery")
	msgs := tg.Messages()
	require.Len(t, msgs, 1, "once, and no message of its own to either chat")
	require.Equal(t, supergroup, msgs[0].ChatID)
	u, err := faastest.Store(t, env).UserByEmail(context.Background(), "smoke@example.com")
	require.NoError(t, err)
	require.Equal(t, supergroup, *u.TelegramChatID)
}
