package command_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/alertmessage"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

// infoLines returns the records at Info or above that logger wrote to buf, as JSON objects.
func infoLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		out = append(out, rec)
	}
	return out
}

// The console events that `make run` shows come from the decorator's one line per use case.
func TestEvaluatePriceSaysHowManyAlertsItRaisedOnItsOneLine(t *testing.T) {
	store := storetest.Open(t)
	ctx := context.Background()
	for _, email := range []string{"a@example.com", "b@example.com"} {
		require.NoError(t, command.NewRegisterUserHandler(store, nil, nil).Handle(ctx, command.RegisterUser{
			Email: email, Ticker: "AAPL", Thresholds: stockalert.Thresholds{High: stockalert.Float(100)},
			TokenHash: stockalert.HashSecret(email), LinkCodeHash: stockalert.HashSecret(email + "c")}))
	}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	evaluate := command.NewEvaluatePriceHandler(store, stockalert.TopicAlerts, logger, nil)

	require.NoError(t, evaluate.Handle(ctx, command.EvaluatePrice{Event: stockalert.PriceEvent{EventID: "ev-1", Ticker: "AAPL",
		Price: 120, Currency: "USD", Time: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)}}))
	lines := infoLines(t, &buf)
	require.Len(t, lines, 1, "one line for one use case")
	for k, want := range map[string]any{"msg": "alerts raised", "event": "alerts-raised", "command": "EvaluatePrice",
		"outcome": "ok", "ticker": "AAPL", "price": 120.0, "alerts": 2.0} {
		require.Equal(t, want, lines[0][k], "%s in %v", k, lines[0])
	}

	// Nothing raised (already alerted): no event, and below Info.
	buf.Reset()
	require.NoError(t, evaluate.Handle(ctx, command.EvaluatePrice{Event: stockalert.PriceEvent{EventID: "ev-2", Ticker: "AAPL",
		Price: 121, Currency: "USD", Time: time.Date(2026, 3, 2, 15, 1, 0, 0, time.UTC)}}))
	require.Empty(t, infoLines(t, &buf))
}

func TestSendAlertSaysTheDeliveryStateOnItsOneLine(t *testing.T) {
	r := newNotifierRig(t)
	r.user(t, "ann@example.com", 111)
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	sender, err := telegram.NewSender(botToken, r.tg.URL(), telegram.WithTimeout(2*time.Second))
	require.NoError(t, err)
	send := command.NewSendAlertHandler(r.store, sender, command.TextOnly(alertmessage.Text),
		command.NewRecordNotificationHandler(r.store, logger, nil), command.NewMoveTelegramChatHandler(r.store, logger, nil), logger, nil)

	require.NoError(t, send.Handle(context.Background(), command.SendAlert{Alert: alert("a1", "ann@example.com", nil)}))
	lines := infoLines(t, &buf)
	require.Len(t, lines, 1, "one line for the delivery (the notification record logs below Info)")
	for k, want := range map[string]any{"msg": "alert sent", "event": "alert-sent", "command": "SendAlert",
		"outcome": "ok", "ticker": "AAPL", "condition": "above", "price": 101.5, "threshold": 100.0, "reason": ""} {
		require.Equal(t, want, lines[0][k], "%s in %v", k, lines[0])
	}

	buf.Reset()
	r.tg.RejectChat(111, 403, telegramtest.DescBlocked)
	require.NoError(t, send.Handle(context.Background(), command.SendAlert{Alert: alert("a2", "ann@example.com", nil)}))
	lines = infoLines(t, &buf)
	require.Len(t, lines, 1)
	require.Equal(t, "alert-undeliverable", lines[0]["event"])
	require.Contains(t, lines[0]["reason"], "blocked")
}

// Rule changes from the chat (and the API) show on the console: one line each, naming the user.
func TestRuleChangesSayWhoOnTheirOneLine(t *testing.T) {
	store := storetest.Open(t)
	ctx := context.Background()
	require.NoError(t, command.NewRegisterUserHandler(store, nil, nil).Handle(ctx, command.RegisterUser{
		Email: "rc@example.com", TokenHash: stockalert.HashSecret("t"), LinkCodeHash: stockalert.HashSecret("c")}))
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	var created stockalert.Rule
	require.NoError(t, command.NewCreateRuleHandler(store, nil, logger, nil).Handle(ctx, command.CreateRule{Email: "rc@example.com",
		Rule: stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 200}, Created: &created}))
	require.NoError(t, command.NewDeleteRuleHandler(store, logger, nil).Handle(ctx, command.DeleteRule{Email: "rc@example.com",
		RuleID: stockalert.RuleIDString(created.ID)}))
	lines := infoLines(t, &buf)
	require.Len(t, lines, 2)
	for i, want := range []map[string]any{
		{"msg": "rule created", "event": "rule-created", "email": "rc@example.com", "ticker": "AAPL", "kind": "above"},
		{"msg": "rule deleted", "event": "rule-deleted", "email": "rc@example.com", "rule_id": stockalert.RuleIDString(created.ID)},
	} {
		for k, v := range want {
			require.Equal(t, v, lines[i][k], "%s in %v", k, lines[i])
		}
	}
}

// The account events of the chat (registration, linking, re-linking, a new token) are one console line
// each, naming the user.
func TestAccountEventsNameTheUserOnTheirOneLine(t *testing.T) {
	store := storetest.Open(t)
	ctx := context.Background()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	register := command.NewRegisterUserHandler(store, logger, nil)
	link := command.NewLinkTelegramHandler(store, logger, nil)
	issue := command.NewIssueLinkCodeHandler(store, nil, nil)
	rotate := command.NewRotateTokenHandler(store, logger, nil)
	last := func() map[string]any {
		t.Helper()
		lines := infoLines(t, &buf)
		require.Len(t, lines, 1, "one line for one use case")
		buf.Reset()
		return lines[0]
	}
	want := func(line map[string]any, fields map[string]any) {
		t.Helper()
		for k, v := range fields {
			require.Equal(t, v, line[k], "%s in %v", k, line)
		}
	}

	chat := int64(42)
	require.NoError(t, register.Handle(ctx, command.RegisterUser{Email: "Pat@example.com", Ticker: "AAPL", TelegramChatID: &chat,
		TokenHash: stockalert.HashSecret("t"), LinkCodeHash: stockalert.HashSecret("c")}))
	want(last(), map[string]any{"msg": "user registered", "event": "user-registered", "email": "pat@example.com", "ticker": "AAPL", "chat": 42.0})

	require.NoError(t, rotate.Handle(ctx, command.RotateToken{ChatID: 42, TokenHash: stockalert.HashSecret("t2")}))
	want(last(), map[string]any{"msg": "API token replaced from the chat", "event": "api-token-rotated", "email": "pat@example.com", "chat": 42.0})

	require.NoError(t, register.Handle(ctx, command.RegisterUser{Email: "sam@example.com",
		TokenHash: stockalert.HashSecret("t3"), LinkCodeHash: stockalert.HashSecret("c3")}))
	buf.Reset()
	require.NoError(t, link.Handle(ctx, command.LinkTelegram{Code: "c3", ChatID: 43}))
	want(last(), map[string]any{"msg": "Telegram chat linked", "event": "telegram-linked", "email": "sam@example.com", "chat": 43.0})

	require.NoError(t, issue.Handle(ctx, command.IssueLinkCode{Email: "sam@example.com", CodeHash: stockalert.HashSecret("c4")}))
	require.NoError(t, link.Handle(ctx, command.LinkTelegram{Code: "c4", ChatID: 42, Relink: true}))
	want(last(), map[string]any{"msg": "Telegram chat re-linked", "event": "telegram-relinked", "email": "sam@example.com",
		"chat": 42.0, "unlinked_email": "pat@example.com", "previous_chat": 43.0})
}
