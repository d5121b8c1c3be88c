package command_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/webhook"
)

func webhookSettings(t *testing.T, store *sqlstore.Store, userID int64) stockalert.ChannelSettings {
	t.Helper()
	all, err := store.ChannelSettings(context.Background(), userID)
	require.NoError(t, err)
	for _, c := range all {
		if c.Channel == stockalert.ChannelWebhook {
			return c
		}
	}
	t.Fatal("no webhook settings")
	return stockalert.ChannelSettings{}
}

func registeredUser(t *testing.T, store *sqlstore.Store, email string) stockalert.User {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, command.NewRegisterUserHandler(store, nil, nil).Handle(ctx, command.RegisterUser{
		Email: email, TokenHash: stockalert.HashSecret(email), LinkCodeHash: stockalert.HashSecret(email + "c"),
	}))
	u, err := store.UserByEmail(ctx, stockalert.Email(email))
	require.NoError(t, err)
	return u
}

func TestRegisterAndDeleteWebhook(t *testing.T) {
	store := storetest.Open(t)
	ctx := context.Background()
	u := registeredUser(t, store, "ann@example.com")
	register := command.NewRegisterWebhookHandler(store, false, nil, nil)
	remove := command.NewDeleteWebhookHandler(store, nil, nil)

	for _, bad := range []string{"", "http://example.com/hook", "ftp://example.com/hook", "https://user:pw@example.com/hook",
		"https:///hook", "example.com/hook", "https://example.com/#frag", "https://example.com/" + strings.Repeat("a", 2048),
		"http://localhost:8080/hook"} {
		err := register.Handle(ctx, command.RegisterWebhook{Email: "ann@example.com", URL: bad, Secret: stockalert.NewWebhookSecret()})
		var verr *stockalert.ValidationError
		require.ErrorAs(t, err, &verr, bad)
		require.Equal(t, "url", verr.Field, bad)
	}
	require.False(t, webhookSettings(t, store, u.ID).Enabled, "a refused URL changes nothing")

	err := register.Handle(ctx, command.RegisterWebhook{Email: "nobody@example.com", URL: "https://example.com/hook", Secret: stockalert.NewWebhookSecret()})
	require.ErrorIs(t, err, stockalert.ErrNotFound)

	first := stockalert.NewWebhookSecret()
	require.NoError(t, register.Handle(ctx, command.RegisterWebhook{Email: "ann@example.com", URL: "HTTPS://example.com/hook?k=1", Secret: first}))
	s := webhookSettings(t, store, u.ID)
	require.True(t, s.Enabled)
	require.Equal(t, "https://example.com/hook?k=1", s.Target)
	require.Equal(t, first, s.Secret)

	// A webhook the system turned off is back on, with a new secret, once registered again.
	_, err = store.RecordChannelFailure(ctx, u.ID, stockalert.ChannelWebhook)
	require.NoError(t, err)
	require.NoError(t, store.DisableChannel(ctx, u.ID, stockalert.ChannelWebhook, "failed"))
	second := stockalert.NewWebhookSecret()
	require.NoError(t, register.Handle(ctx, command.RegisterWebhook{Email: "ann@example.com", URL: "https://example.com/hook", Secret: second}))
	s = webhookSettings(t, store, u.ID)
	require.True(t, s.Enabled)
	require.Equal(t, second, s.Secret)
	require.Zero(t, s.Failures)
	require.Empty(t, s.DisabledReason)

	require.NoError(t, remove.Handle(ctx, command.DeleteWebhook{Email: "ann@example.com"}))
	s = webhookSettings(t, store, u.ID)
	require.False(t, s.Enabled)
	require.Empty(t, s.Target)
	require.Empty(t, s.Secret)
	require.NoError(t, remove.Handle(ctx, command.DeleteWebhook{Email: "ann@example.com"}), "removing none succeeds")
	require.ErrorIs(t, remove.Handle(ctx, command.DeleteWebhook{Email: "nobody@example.com"}), stockalert.ErrNotFound)

	// Development: http on loopback when the operator allows it.
	dev := command.NewRegisterWebhookHandler(store, true, nil, nil)
	require.NoError(t, dev.Handle(ctx, command.RegisterWebhook{Email: "ann@example.com", URL: "http://localhost:8080/hook", Secret: second}))
	err = dev.Handle(ctx, command.RegisterWebhook{Email: "ann@example.com", URL: "http://example.com/hook", Secret: second})
	require.ErrorContains(t, err, "https")
}

// TestConsecutiveWebhookFailuresDisable delivers through the real adapter to a receiver that verifies
// each signature and fails on command: failures in a row turn the webhook off at the limit and queue a
// notice for the user's other channels; a success in between starts the count again.
func TestConsecutiveWebhookFailuresDisable(t *testing.T) {
	store := storetest.Open(t)
	ctx := context.Background()
	u := registeredUser(t, store, "ann@example.com")

	var failing atomic.Bool
	var verified atomic.Int32
	var secret atomic.Value
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "unreadable", http.StatusBadRequest)
			return
		}
		wh, err := standardwebhooks.NewWebhook(secret.Load().(string))
		if err != nil || wh.Verify(body, r.Header) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		verified.Add(1)
		if failing.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)

	sec := stockalert.NewWebhookSecret()
	secret.Store(sec)
	require.NoError(t, command.NewRegisterWebhookHandler(store, false, nil, nil).Handle(ctx,
		command.RegisterWebhook{Email: "ann@example.com", URL: srv.URL + "/hook", Secret: sec}))

	ch := command.LimitChannelFailures(webhook.New(webhook.Config{
		Timeout: time.Second, RetryWindow: 30 * time.Millisecond, FirstRetry: 10 * time.Millisecond,
		AllowPrivate: true, TLS: srv.Client().Transport.(*http.Transport).TLSClientConfig,
	}), store, 3, stockalert.TopicAlerts, nil)
	require.Equal(t, stockalert.ChannelWebhook, ch.Channel())

	n := 0
	deliver := func() error {
		n++
		return ch.Deliver(ctx, command.ChannelDelivery{
			Alert: stockalert.AlertEvent{EventID: "alert-" + string(rune('a'+n)), Email: u.Email, Ticker: "AAPL",
				Condition: stockalert.Above, Price: 201, Currency: "USD", Threshold: 200, Time: time.Now()},
			User: u, Settings: webhookSettings(t, store, u.ID), Location: time.UTC,
		})
	}

	failing.Store(true)
	for range 2 {
		err := deliver()
		require.Error(t, err)
		require.NotErrorIs(t, err, stockalert.ErrUndeliverable, "a 500 is transient")
	}
	require.Equal(t, 2, webhookSettings(t, store, u.ID).Failures)

	failing.Store(false)
	require.NoError(t, deliver())
	require.Zero(t, webhookSettings(t, store, u.ID).Failures, "a success starts the count again")

	failing.Store(true)
	for i := range 3 {
		require.Error(t, deliver())
		notices, err := store.PendingOutbox(ctx, stockalert.TopicAlerts, 10)
		require.NoError(t, err)
		if i < 2 {
			require.True(t, webhookSettings(t, store, u.ID).Enabled)
			require.Empty(t, notices)
		}
	}
	s := webhookSettings(t, store, u.ID)
	require.False(t, s.Enabled)
	require.Equal(t, "3 deliveries in a row failed; the last: your endpoint answered 500 Internal Server Error", s.DisabledReason)

	notices, err := store.PendingOutbox(ctx, stockalert.TopicAlerts, 10)
	require.NoError(t, err)
	require.Len(t, notices, 1)
	require.Equal(t, "ann@example.com", notices[0].Key)
	var ev stockalert.AlertEvent
	require.NoError(t, json.Unmarshal(notices[0].Value, &ev))
	require.Equal(t, stockalert.WebhookDisabled, ev.Condition)
	require.Equal(t, s.DisabledReason, ev.Note)
	require.Equal(t, u.Email, ev.Email)
	require.NotEmpty(t, ev.EventID)
	require.Positive(t, verified.Load(), "the receiver verified the signatures")
}
