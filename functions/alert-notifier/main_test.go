package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/command"
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
	require.Empty(t, msgs[0].ReplyMarkup, "an alert without a rule id (from a producer that predates rules) has no buttons")
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

// TestFloodControl: Telegram answers 429 retry_after 2 for the chat. Past TELEGRAM_MAX_RETRY_AFTER the
// function answers 503 with Retry-After, as the connector expects, and however often the alert comes
// back before that time Telegram is not called; after it, the alert is sent once.
func TestFloodControl(t *testing.T) {
	t.Parallel()
	tg := telegramtest.NewServer(t, token)
	env := faastest.Env(t, map[string]string{"telegram-bot-token": token},
		map[string]string{"TELEGRAM_API_URL": tg.URL(), "TELEGRAM_MAX_RETRY_AFTER": "100ms"})
	registerLinked(t, env, 4242)
	base := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire, env)
	tg.Flood(4242, 2*time.Second)

	body, _ := json.Marshal(stockalert.AlertEvent{EventID: "a-1", Email: "smoke@example.com", Ticker: "AAPL",
		Condition: stockalert.Above, Price: 120, Currency: "USD", Threshold: 100})
	held := 0
	require.Eventually(t, func() bool {
		res, err := http.Post(base+"/", "application/json", bytes.NewReader(body)) //nolint:noctx // a test's short call
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		if res.StatusCode == http.StatusServiceUnavailable {
			secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
			require.NoError(t, err)
			require.True(t, secs >= 1 && secs <= 2, "Retry-After %d", secs)
			held++
			return false
		}
		require.Equal(t, http.StatusNoContent, res.StatusCode)
		return true
	}, 10*time.Second, 50*time.Millisecond)
	require.Greater(t, held, 5)
	require.Equal(t, 0, tg.EarlyCalls(), "no sendMessage before retry_after")
	require.Equal(t, 2, tg.Calls("sendMessage"), "the 429, then the alert")
	require.Len(t, tg.Messages(), 1)
}

// TestRuleAlertText: an alert event describing a rule (as the alert system publishes it on
// to-notifier) reaches the chat in that kind's words, with the day change, the note and, for a once
// rule, that it is done, in one message.
func TestRuleAlertText(t *testing.T) {
	t.Parallel()
	tg := telegramtest.NewServer(t, token)
	env := faastest.Env(t, map[string]string{"telegram-bot-token": token}, map[string]string{"TELEGRAM_API_URL": tg.URL()})
	registerLinked(t, env, 4343)
	base := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire, env)

	body := `{"event_id":"r-1","email":"smoke@example.com","telegram_chat_id":null,"ticker":"MSFT","condition":"below",` +
		`"price":387.1,"currency":"USD","threshold":387.5829,"time":"2026-03-02T14:30:00Z","rule_id":"17","kind":"change_pct",` +
		`"percent":3,"direction":"down","previous_close":399.57,"day_change_percent":-3.1208549,"note":"rebalance","rule_done":true}`
	status, answer := faastest.Call(t, http.MethodPost, base+"/", body, nil)
	require.Equal(t, http.StatusNoContent, status, answer)
	msgs := tg.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, int64(4343), msgs[0].ChatID)
	require.Equal(t, "🔔 MSFT is down 3.12% today, past your 3% alert\n"+
		"Price: 387.10 USD at 2026-03-02 14:30 UTC (previous close 399.57 USD)\n"+
		"Note: rebalance\n"+
		"This alert was set to fire once and is now done.", msgs[0].Text)
	require.JSONEq(t, `{"inline_keyboard":[[{"text":"Snooze 1h","callback_data":"snooze:17"},{"text":"Delete alert","callback_data":"del:17"},{"text":"Chart","callback_data":"chart:MSFT"}]]}`,
		msgs[0].ReplyMarkup, "the alert carries the buttons the telegram-bot function serves")

	// A symbol-dropped notice has no rule to snooze or delete: no buttons.
	dropped := `{"event_id":"r-2","email":"smoke@example.com","ticker":"ZZZQ","condition":"symbol-dropped","time":"2026-03-02T14:30:00Z"}`
	status, answer = faastest.Call(t, http.MethodPost, base+"/", dropped, nil)
	require.Equal(t, http.StatusNoContent, status, answer)
	msgs = tg.Messages()
	require.Len(t, msgs, 2)
	require.Contains(t, msgs[1].Text, "ZZZQ is not a symbol")
	require.Empty(t, msgs[1].ReplyMarkup)
}
