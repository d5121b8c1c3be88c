package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

// hookReceiver is a user's endpoint: it verifies each request with the Standard Webhooks library and
// keeps the verified ones by webhook-id; it answers status.
type hookReceiver struct {
	srv    *httptest.Server
	secret string
	status int

	mu       sync.Mutex
	requests int
	byID     map[string]int
}

func newHookReceiver(t *testing.T, tlsOn bool, status int) *hookReceiver {
	h := &hookReceiver{secret: stockalert.NewWebhookSecret(), status: status, byID: map[string]int{}}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		wh, werr := standardwebhooks.NewWebhook(h.secret)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.requests++
		if err != nil || werr != nil || wh.Verify(body, r.Header) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.byID[r.Header.Get("webhook-id")]++
		w.WriteHeader(h.status)
	})
	if tlsOn {
		h.srv = httptest.NewTLSServer(handler)
	} else {
		h.srv = httptest.NewServer(handler)
	}
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) seen() (requests int, verified map[string]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for k, v := range h.byID {
		out[k] = v
	}
	return h.requests, out
}

func registerWebhook(t *testing.T, env map[string]string, url, secret string) {
	t.Helper()
	store := faastest.Store(t, env)
	require.NoError(t, command.NewRegisterWebhookHandler(store, true, nil, nil).Handle(context.Background(),
		command.RegisterWebhook{Email: "smoke@example.com", URL: url, Secret: secret}))
}

func deliverID(t *testing.T, base, id string) int {
	t.Helper()
	body, _ := json.Marshal(stockalert.AlertEvent{EventID: id, Email: "smoke@example.com", Ticker: "AAPL", RuleID: "1",
		Kind: stockalert.KindAbove, Condition: stockalert.Above, Price: 120, Currency: "USD", Threshold: 100,
		Time: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)})
	status, _ := faastest.Call(t, http.MethodPost, base+"/", string(body), nil)
	return status
}

// TestWebhookDelivery: through the shipped wiring an alert reaches Telegram and the user's webhook,
// signed; a redelivery sends neither again.
func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	tg := telegramtest.NewServer(t, token)
	hook := newHookReceiver(t, false, http.StatusNoContent)
	env := faastest.Env(t, map[string]string{"telegram-bot-token": token},
		map[string]string{"TELEGRAM_API_URL": tg.URL(), "WEBHOOK_ALLOW_HTTP_LOOPBACK": "true"})
	registerLinked(t, env, 4242)
	registerWebhook(t, env, hook.srv.URL+"/hook", hook.secret)
	base := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire, env)

	require.Equal(t, http.StatusNoContent, deliverID(t, base, "a-1"))
	require.Equal(t, http.StatusNoContent, deliverID(t, base, "a-1"), "a redelivery")
	requests, verified := hook.seen()
	require.Equal(t, 1, requests)
	require.Equal(t, map[string]int{"a-1": 1}, verified)
	require.Len(t, tg.Messages(), 1)
}

// TestWebhookSSRFGuard: by default a webhook whose address is loopback is refused at connect time:
// nothing reaches it, the alert is final for the webhook (no retry) and Telegram still gets it.
func TestWebhookSSRFGuard(t *testing.T) {
	t.Parallel()
	tg := telegramtest.NewServer(t, token)
	hook := newHookReceiver(t, true, http.StatusNoContent)
	env := faastest.Env(t, map[string]string{"telegram-bot-token": token}, map[string]string{"TELEGRAM_API_URL": tg.URL()})
	registerLinked(t, env, 4242)
	registerWebhook(t, env, hook.srv.URL+"/hook", hook.secret) // https://127.0.0.1:port
	base := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire, env)

	require.Equal(t, http.StatusNoContent, deliverID(t, base, "a-1"))
	requests, _ := hook.seen()
	require.Zero(t, requests)
	require.Len(t, tg.Messages(), 1)
}

// TestWebhookTurnedOffAfterFailures: an endpoint answering 410 fails WEBHOOK_MAX_FAILURES alerts in a
// row; the webhook is turned off and the notice queued for the user reaches Telegram.
func TestWebhookTurnedOffAfterFailures(t *testing.T) {
	t.Parallel()
	tg := telegramtest.NewServer(t, token)
	hook := newHookReceiver(t, false, http.StatusGone)
	env := faastest.Env(t, map[string]string{"telegram-bot-token": token}, map[string]string{"TELEGRAM_API_URL": tg.URL(),
		"WEBHOOK_ALLOW_HTTP_LOOPBACK": "true", "WEBHOOK_MAX_FAILURES": "2"})
	registerLinked(t, env, 4242)
	registerWebhook(t, env, hook.srv.URL+"/hook", hook.secret)
	base := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire, env)

	require.Equal(t, http.StatusNoContent, deliverID(t, base, "a-1"))
	require.Equal(t, http.StatusNoContent, deliverID(t, base, "a-2"))
	require.Equal(t, http.StatusNoContent, deliverID(t, base, "a-3"), "the webhook is off: not tried")
	requests, _ := hook.seen()
	require.Equal(t, 2, requests)

	store := faastest.Store(t, env)
	ctx := context.Background()
	u, err := store.UserByEmail(ctx, "smoke@example.com")
	require.NoError(t, err)
	all, err := store.ChannelSettings(ctx, u.ID)
	require.NoError(t, err)
	require.False(t, all[2].Enabled)
	require.Equal(t, "2 deliveries in a row failed; the last: your endpoint answered 410 Gone", all[2].DisabledReason)

	notices, err := store.PendingOutbox(ctx, stockalert.TopicAlerts, 10)
	require.NoError(t, err)
	require.Len(t, notices, 1)
	status, _ := faastest.Call(t, http.MethodPost, base+"/", string(notices[0].Value), nil)
	require.Equal(t, http.StatusNoContent, status)
	msgs := tg.Messages()
	require.Len(t, msgs, 4)
	require.Contains(t, msgs[3].Text, "Your webhook was turned off")
	require.Contains(t, msgs[3].Text, "410 Gone")
}
