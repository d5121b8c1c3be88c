package functions_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/functions/alert-system/alertsystemapp"
	"github.com/stockalert/stockalert/functions/data-collector/datacollectorapp"
	"github.com/stockalert/stockalert/functions/stock-queries/stockqueriesapp"
	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// testChannel is a command.AlertChannel the pipeline delivers through in place of the real e-mail and
// webhook adapters (their own tests run them against a real SMTP server and HTTP receiver): it keeps
// the alerts it took and fails transiently as many times as told first.
type testChannel struct {
	channel stockalert.Channel
	mu      sync.Mutex
	fails   int
	got     []stockalert.AlertEvent
}

func (c *testChannel) Channel() stockalert.Channel { return c.channel }

func (c *testChannel) Deliver(_ context.Context, d command.ChannelDelivery) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fails > 0 {
		c.fails--
		return errors.New("receiver answered 503 Service Unavailable")
	}
	c.got = append(c.got, d.Alert)
	return nil
}

func (c *testChannel) failNext(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fails = n
}

func (c *testChannel) received() []stockalert.AlertEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// One alert goes out on Telegram and on the webhook the user turned on through the API; the webhook
// fails once, so the connector delivers the alert again: the webhook gets it then, Telegram is not sent
// twice, and the e-mail channel, off, gets nothing. A rule naming the webhook alone reaches only it.
// The history shows each channel's outcome.
func TestChannelsInProcess(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	tg := telegramtest.NewServer(t, botToken)
	brokers := kafkatest.Embedded(t)
	with := sharedEnv(t, brokers, 3)
	yahoo := map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL()}
	userCommands := faastest.Start(t, usercommandsapp.Name, usercommandsapp.Wire, nil, with(yahoo))
	stockQueries := faastest.Start(t, stockqueriesapp.Name, stockqueriesapp.Wire, nil, with(nil))
	dataCollector := faastest.Start(t, datacollectorapp.Name, datacollectorapp.Wire, nil, with(yahoo))
	alertSystem := faastest.Start(t, alertsystemapp.Name, alertsystemapp.Wire, nil, with(nil))
	email := &testChannel{channel: stockalert.ChannelEmail}
	webhook := &testChannel{channel: stockalert.ChannelWebhook}
	notifierEnv := faastest.Env(t, map[string]string{"telegram-bot-token": botToken}, with(map[string]string{"TELEGRAM_API_URL": tg.URL()}))
	alertNotifier := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.WireWith(email, webhook), notifierEnv)
	store := faastest.Store(t, notifierEnv)
	evaluator, notifier := newRoute(t, alertSystem), newRoute(t, alertNotifier)
	gateway := serveGateway(t, map[string]http.Handler{
		alertsystemapp.Name: evaluator, alertnotifierapp.Name: notifier, usercommandsapp.Name: newRoute(t, userCommands),
		stockqueriesapp.Name: newRoute(t, stockQueries), datacollectorapp.Name: newRoute(t, dataCollector),
	})
	runConnector(t, gateway, brokers, 3, nil)

	call := func(method, path, token, body string, want int) map[string]any {
		t.Helper()
		req, err := http.NewRequest(method, gateway+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		require.Equal(t, want, res.StatusCode, "%s %s: %s", method, path, raw)
		var out map[string]any
		if len(raw) > 0 {
			require.NoError(t, json.Unmarshal(raw, &out), string(raw))
		}
		return out
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	quotes.SetQuote("AAPL", 75, "USD", t0)
	quotes.SetQuote("MSFT", 5, "USD", t0)
	reg := call("POST", "/function/user-commands/users", "", `{"email":"lee@example.com","ticker":"AAPL","high_value":100,"telegram_chat_id":88}`,
		http.StatusCreated)
	token, _ := reg["token"].(string)

	// The webhook's URL is registered (the webhook branch's endpoint does it; here the store), then the
	// user turns the webhook on through the API.
	call("PUT", "/function/user-commands/users/lee@example.com/channels", token, `{"webhook":{"enabled":true}}`, http.StatusConflict)
	u, err := store.UserByEmail(context.Background(), "lee@example.com")
	require.NoError(t, err)
	require.NoError(t, store.SetChannelTarget(context.Background(), u.ID, stockalert.ChannelWebhook, "https://hooks.example.com/lee", "whsec_eA=="))
	call("PUT", "/function/user-commands/users/lee@example.com/channels", token, `{"webhook":{"enabled":true}}`, http.StatusOK)
	channels := call("GET", "/function/stock-queries/users/lee@example.com/channels", token, "", http.StatusOK)
	require.Equal(t, []any{
		map[string]any{"channel": "telegram", "enabled": true, "target": "88", "verified": true},
		map[string]any{"channel": "email", "enabled": false, "target": "lee@example.com", "verified": false},
		map[string]any{"channel": "webhook", "enabled": true, "target": "https://hooks.example.com/lee", "verified": true},
	}, channels["channels"])

	runs := 0
	collect := func(ticker string, price float64) {
		t.Helper()
		runs++
		quotes.SetQuote(ticker, price, "USD", t0.Add(time.Duration(runs)*time.Minute))
		call("POST", "/function/data-collector", "", "", http.StatusOK)
		require.Eventually(t, func() bool { return len(evaluator.answered()) == runs }, time.Minute, 20*time.Millisecond)
	}

	webhook.failNext(1)
	collect("AAPL", 150)
	require.Eventually(t, func() bool { return len(webhook.received()) == 1 }, time.Minute, 20*time.Millisecond,
		"the webhook gets the alert once the connector delivers it again")
	require.Eventually(t, func() bool { return len(notifier.answered()) == 2 }, time.Minute, 20*time.Millisecond)
	answered := notifier.answered()
	require.GreaterOrEqual(t, answered[0], 500, "the first delivery failed on the webhook: the connector is asked to retry")
	require.Equal(t, http.StatusNoContent, answered[1])
	require.Len(t, tg.Messages(), 1, "Telegram is not sent twice")
	require.Contains(t, tg.Messages()[0].Text, "AAPL is above")
	require.Equal(t, tg.Messages()[0].ChatID, int64(88))
	require.Empty(t, email.received(), "e-mail is off: nothing")
	alertID := webhook.received()[0].EventID

	history := call("GET", "/function/stock-queries/users/lee@example.com/alerts/history", token, "", http.StatusOK)
	alerts, _ := history["alerts"].([]any)
	require.Len(t, alerts, 1)
	require.Equal(t, []any{
		map[string]any{"channel": "telegram", "outcome": "sent"},
		map[string]any{"channel": "webhook", "outcome": "sent"},
	}, alerts[0].(map[string]any)["deliveries"])

	// A rule naming the webhook alone: its alert reaches the webhook, not Telegram.
	rule := call("POST", "/function/user-commands/users/lee@example.com/alerts", token,
		`{"ticker":"MSFT","kind":"above","level":10,"channels":["webhook"]}`, http.StatusCreated)
	require.Equal(t, []any{"webhook"}, rule["channels"])
	collect("MSFT", 12)
	require.Eventually(t, func() bool { return len(webhook.received()) == 2 }, time.Minute, 20*time.Millisecond)
	require.Eventually(t, func() bool { return len(notifier.answered()) == 3 }, time.Minute, 20*time.Millisecond)
	require.Equal(t, http.StatusNoContent, notifier.answered()[2])
	require.Equal(t, stockalert.Ticker("MSFT"), webhook.received()[1].Ticker)
	require.Equal(t, []stockalert.Channel{stockalert.ChannelWebhook}, webhook.received()[1].Channels)
	require.Len(t, tg.Messages(), 1, "the rule does not name Telegram")
	require.Empty(t, email.received())
	require.NotEqual(t, alertID, webhook.received()[1].EventID)
}
