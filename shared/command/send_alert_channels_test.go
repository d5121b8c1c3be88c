package command_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/alertmessage"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

// recordingChannel is a command.AlertChannel that keeps what it delivered and answers the errors queued
// with failNext first.
type recordingChannel struct {
	channel stockalert.Channel
	mu      sync.Mutex
	got     []command.ChannelDelivery
	errs    []error
}

func (c *recordingChannel) Channel() stockalert.Channel { return c.channel }

func (c *recordingChannel) Deliver(_ context.Context, d command.ChannelDelivery) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) > 0 {
		err := c.errs[0]
		c.errs = c.errs[1:]
		return err
	}
	c.got = append(c.got, d)
	return nil
}

func (c *recordingChannel) failNext(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, err)
}

func (c *recordingChannel) delivered() []command.ChannelDelivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]command.ChannelDelivery(nil), c.got...)
}

// reasonErr is an undeliverable error with the user's words.
type reasonErr struct{ reason string }

func (e reasonErr) Error() string {
	return "550 5.1.1 mailbox unavailable: " + stockalert.ErrUndeliverable.Error()
}
func (e reasonErr) Unwrap() error      { return stockalert.ErrUndeliverable }
func (e reasonErr) UserReason() string { return e.reason }

type fanOutRig struct {
	*notifierRig
	email, hook *recordingChannel
}

func newFanOutRig(t *testing.T, opts ...command.SendAlertOption) *fanOutRig {
	store := storetest.Open(t)
	tg := telegramtest.NewServer(t, botToken)
	sender, err := telegram.NewSender(botToken, tg.URL(), telegram.WithTimeout(2*time.Second))
	require.NoError(t, err)
	logger := slog.New(slog.DiscardHandler)
	email := &recordingChannel{channel: stockalert.ChannelEmail}
	hook := &recordingChannel{channel: stockalert.ChannelWebhook}
	send := command.NewSendAlertHandler(store, sender, command.TextOnly(alertmessage.Text),
		command.NewRecordNotificationHandler(store, logger, nil), command.NewMoveTelegramChatHandler(store, logger, nil), logger, nil,
		append([]command.SendAlertOption{command.Channels(store, email, hook)}, opts...)...)
	return &fanOutRig{notifierRig: &notifierRig{store: store, tg: tg, send: send}, email: email, hook: hook}
}

// enable registers email with chat linked, the e-mail address confirmed and both other channels on.
func (r *fanOutRig) enableAll(t *testing.T, email string, chat int64) int64 {
	t.Helper()
	r.user(t, email, chat)
	ctx := context.Background()
	u, err := r.store.UserByEmail(ctx, stockalert.Email(email))
	require.NoError(t, err)
	require.NoError(t, r.store.MarkChannelVerified(ctx, u.ID, stockalert.ChannelEmail, time.Now()))
	require.NoError(t, r.store.SetChannelTarget(ctx, u.ID, stockalert.ChannelWebhook, "https://hooks.example.com/x", "whsec_eA=="))
	for _, c := range []stockalert.Channel{stockalert.ChannelEmail, stockalert.ChannelWebhook} {
		require.NoError(t, r.store.SetChannelEnabled(ctx, u.ID, c, true))
	}
	return u.ID
}

func (r *fanOutRig) deliveries(t *testing.T, email string) map[string]sqlstore.ChannelDelivery {
	t.Helper()
	log, err := r.store.ChannelDeliveries(context.Background(), stockalert.Email(email))
	require.NoError(t, err)
	out := map[string]sqlstore.ChannelDelivery{}
	for _, d := range log {
		out[d.EventID+"/"+string(d.Channel)] = d
	}
	return out
}

func TestSendAlertFansOutToEveryEnabledChannelOnce(t *testing.T) {
	r := newFanOutRig(t)
	r.enableAll(t, "fan@example.com", 501)
	a := alert("f1", "fan@example.com", nil)
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: a}))
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: a}), "a redelivery")

	require.Len(t, r.tg.Messages(), 1)
	require.Len(t, r.email.delivered(), 1)
	require.Len(t, r.hook.delivered(), 1)
	d := r.hook.delivered()[0]
	require.Equal(t, a.EventID, d.Alert.EventID)
	require.Equal(t, stockalert.Email("fan@example.com"), d.User.Email)
	require.Equal(t, "https://hooks.example.com/x", d.Settings.Target)
	require.Equal(t, "whsec_eA==", d.Settings.Secret)
	require.Equal(t, "fan@example.com", r.email.delivered()[0].Settings.Target)
	log := r.deliveries(t, "fan@example.com")
	require.Equal(t, stockalert.Sent, log["f1/email"].State)
	require.Equal(t, stockalert.Sent, log["f1/webhook"].State)
	require.Equal(t, 1, log["f1/webhook"].Attempts)
}

// A channel failing transiently makes the alert come back (an error), and the redelivery tries that
// channel alone: Telegram and e-mail are not sent twice.
func TestSendAlertRetriesOnlyTheChannelThatFailed(t *testing.T) {
	r := newFanOutRig(t)
	r.enableAll(t, "retry@example.com", 502)
	r.hook.failNext(errors.New("POST https://hooks.example.com/x: 503 Service Unavailable"))
	a := alert("f2", "retry@example.com", nil)

	err := r.send.Handle(context.Background(), command.SendAlert{Alert: a})
	require.Error(t, err)
	require.ErrorContains(t, err, "503")
	require.Len(t, r.tg.Messages(), 1, "Telegram went out beside the failing channel")
	require.Len(t, r.email.delivered(), 1)
	require.Equal(t, stockalert.Failed, r.deliveries(t, "retry@example.com")["f2/webhook"].State)

	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: a}))
	require.Len(t, r.tg.Messages(), 1, "Telegram is not sent again")
	require.Len(t, r.email.delivered(), 1, "e-mail is not sent again")
	require.Len(t, r.hook.delivered(), 1)
	log := r.deliveries(t, "retry@example.com")
	require.Equal(t, stockalert.Sent, log["f2/webhook"].State)
	require.Equal(t, 2, log["f2/webhook"].Attempts)
}

// A Telegram fault brings the alert back too; the channels that took it are not sent twice.
func TestSendAlertTelegramFailureDoesNotResendTheChannels(t *testing.T) {
	r := newFanOutRig(t)
	r.enableAll(t, "tgfail@example.com", 503)
	r.tg.FailNext("sendMessage", 500, "Internal Server Error", 0)
	a := alert("f3", "tgfail@example.com", nil)
	require.Error(t, r.send.Handle(context.Background(), command.SendAlert{Alert: a}))
	require.Len(t, r.email.delivered(), 1, "a failing Telegram does not hold up e-mail")
	require.Len(t, r.hook.delivered(), 1)
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: a}))
	require.Len(t, r.tg.Messages(), 1)
	require.Len(t, r.email.delivered(), 1)
	require.Len(t, r.hook.delivered(), 1)
}

func TestSendAlertUndeliverableChannelIsFinalAndBlocksNoOther(t *testing.T) {
	r := newFanOutRig(t)
	r.enableAll(t, "undl@example.com", 504)
	r.email.failNext(fmt.Errorf("send: %w", reasonErr{reason: "the mail server refused the address"}))
	r.hook.failNext(fmt.Errorf("POST: 410 Gone: %w", stockalert.ErrUndeliverable))
	a := alert("f4", "undl@example.com", nil)
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: a}))
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: a}))
	require.Len(t, r.tg.Messages(), 1)
	require.Empty(t, r.email.delivered())
	require.Empty(t, r.hook.delivered())
	log := r.deliveries(t, "undl@example.com")
	require.Equal(t, stockalert.Undeliverable, log["f4/email"].State)
	require.Equal(t, "the mail server refused the address", log["f4/email"].Reason)
	require.Equal(t, 1, log["f4/email"].Attempts, "final: not tried again")
	require.Equal(t, stockalert.Undeliverable, log["f4/webhook"].State)
	require.Equal(t, "the webhook refused the alert", log["f4/webhook"].Reason)
	require.Contains(t, log["f4/webhook"].Error, "410 Gone", "operators keep the chain")
}

func TestSendAlertSkipsDisabledChannelsAndThoseTheRuleDoesNotName(t *testing.T) {
	r := newFanOutRig(t)
	uid := r.enableAll(t, "pick@example.com", 505)
	ctx := context.Background()
	require.NoError(t, r.store.SetChannelEnabled(ctx, uid, stockalert.ChannelWebhook, false))
	require.NoError(t, r.send.Handle(ctx, command.SendAlert{Alert: alert("f5", "pick@example.com", nil)}))
	require.Len(t, r.tg.Messages(), 1)
	require.Len(t, r.email.delivered(), 1)
	require.Empty(t, r.hook.delivered(), "disabled: nothing")

	// The rule names e-mail only: Telegram gets nothing, and nothing is logged for it.
	require.NoError(t, r.store.SetChannelEnabled(ctx, uid, stockalert.ChannelWebhook, true))
	only := alert("f6", "pick@example.com", nil)
	only.Channels = []stockalert.Channel{stockalert.ChannelEmail}
	require.NoError(t, r.send.Handle(ctx, command.SendAlert{Alert: only}))
	require.Len(t, r.tg.Messages(), 1)
	require.Len(t, r.email.delivered(), 2)
	require.Empty(t, r.hook.delivered())
	_, err := r.store.DeliveryState(ctx, "f6")
	require.ErrorIs(t, err, stockalert.ErrNotFound)

	// Telegram turned off: the alert goes to the others alone.
	require.NoError(t, r.store.SetChannelEnabled(ctx, uid, stockalert.ChannelTelegram, false))
	require.NoError(t, r.send.Handle(ctx, command.SendAlert{Alert: alert("f7", "pick@example.com", nil)}))
	require.Len(t, r.tg.Messages(), 1)
	require.Len(t, r.email.delivered(), 3)
	require.Len(t, r.hook.delivered(), 1)
}

func TestSendAlertOverAChannelNotConfiguredSaysSo(t *testing.T) {
	r := newFanOutRig(t)
	r.enableAll(t, "off@example.com", 506)
	r.email.failNext(fmt.Errorf("e-mail: %w", stockalert.ErrChannelOff))
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: alert("f8", "off@example.com", nil)}))
	log := r.deliveries(t, "off@example.com")
	require.Equal(t, stockalert.Undeliverable, log["f8/email"].State)
	require.Equal(t, "e-mail is not configured on this server", log["f8/email"].Reason)

	// A server without a webhook adapter at all.
	store := r.store
	logger := slog.New(slog.DiscardHandler)
	sender, err := telegram.NewSender(botToken, r.tg.URL())
	require.NoError(t, err)
	noHook := command.NewSendAlertHandler(store, sender, command.TextOnly(alertmessage.Text),
		command.NewRecordNotificationHandler(store, logger, nil), command.NewMoveTelegramChatHandler(store, logger, nil), logger, nil,
		command.Channels(store, r.email))
	require.NoError(t, noHook.Handle(context.Background(), command.SendAlert{Alert: alert("f9", "off@example.com", nil)}))
	log = r.deliveries(t, "off@example.com")
	require.Equal(t, stockalert.Undeliverable, log["f9/webhook"].State)
	require.Equal(t, "webhooks are not configured on this server", log["f9/webhook"].Reason)
	require.Equal(t, stockalert.Sent, log["f9/email"].State)
}

func TestSendAlertSendsNoMailToAnUnconfirmedAddress(t *testing.T) {
	r := newFanOutRig(t)
	r.user(t, "unv@example.com", 507)
	ctx := context.Background()
	u, err := r.store.UserByEmail(ctx, "unv@example.com")
	require.NoError(t, err)
	require.NoError(t, r.store.SetChannelEnabled(ctx, u.ID, stockalert.ChannelEmail, true))
	require.NoError(t, r.send.Handle(ctx, command.SendAlert{Alert: alert("g1", "unv@example.com", nil)}))
	require.Empty(t, r.email.delivered())
	d := r.deliveries(t, "unv@example.com")["g1/email"]
	require.Equal(t, stockalert.Undeliverable, d.State)
	require.Equal(t, "the e-mail address is not confirmed yet", d.Reason)
}

func TestQuietHoursHoldEveryChannel(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC)}
	r := newFanOutRig(t, command.SendAlertClock(clk.Now))
	r.enableAll(t, "hush@example.com", 508)
	ctx := context.Background()
	require.NoError(t, command.NewSetQuietHoursHandler(r.store, nil, nil).Handle(ctx,
		command.SetQuietHours{ChatID: 508, Quiet: stockalert.QuietHours{Set: true, Start: 22 * 60, End: 7 * 60}}))
	require.NoError(t, r.send.Handle(ctx, command.SendAlert{Alert: alert("h1", "hush@example.com", nil)}))
	require.Empty(t, r.tg.Messages())
	require.Empty(t, r.email.delivered())
	require.Empty(t, r.hook.delivered())
	require.Empty(t, r.deliveries(t, "hush@example.com"))
	require.Equal(t, stockalert.Held, r.state(t, "hush@example.com")[0].State)
}

// Without a linked chat an alert that goes to another channel is not logged undeliverable on Telegram;
// with no other channel it is, as before.
func TestSendAlertWithoutAChatGoesToTheOtherChannels(t *testing.T) {
	r := newFanOutRig(t)
	r.user(t, "nochat@example.com", 0)
	ctx := context.Background()
	u, err := r.store.UserByEmail(ctx, "nochat@example.com")
	require.NoError(t, err)
	require.NoError(t, r.send.Handle(ctx, command.SendAlert{Alert: alert("n1", "nochat@example.com", nil)}))
	require.Equal(t, stockalert.Undeliverable, r.state(t, "nochat@example.com")[0].State, "no channel at all: as before")

	require.NoError(t, r.store.MarkChannelVerified(ctx, u.ID, stockalert.ChannelEmail, time.Now()))
	require.NoError(t, r.store.SetChannelEnabled(ctx, u.ID, stockalert.ChannelEmail, true))
	require.NoError(t, r.send.Handle(ctx, command.SendAlert{Alert: alert("n2", "nochat@example.com", nil)}))
	require.Len(t, r.email.delivered(), 1)
	_, err = r.store.DeliveryState(ctx, "n2")
	require.ErrorIs(t, err, stockalert.ErrNotFound, "nothing logged on Telegram")
}

// Every delivery recorded is counted by channel and state, a retried one once per attempt; a
// redelivery that sends nothing counts nothing.
func TestSendAlertCountsDeliveriesByChannelAndState(t *testing.T) {
	store := storetest.Open(t)
	tg := telegramtest.NewServer(t, botToken)
	sender, err := telegram.NewSender(botToken, tg.URL(), telegram.WithTimeout(2*time.Second))
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	m, err := decorator.NewMetrics(reg)
	require.NoError(t, err)
	logger := slog.New(slog.DiscardHandler)
	email := &recordingChannel{channel: stockalert.ChannelEmail}
	hook := &recordingChannel{channel: stockalert.ChannelWebhook}
	send := command.NewSendAlertHandler(store, sender, command.TextOnly(alertmessage.Text),
		command.NewRecordNotificationHandler(store, logger, m), command.NewMoveTelegramChatHandler(store, logger, m), logger, m,
		command.Channels(store, email, hook))
	r := &fanOutRig{notifierRig: &notifierRig{store: store, tg: tg, send: send}, email: email, hook: hook}
	r.enableAll(t, "count@example.com", 503)
	hook.failNext(errors.New("POST https://hooks.example.com/x: 503 Service Unavailable"))
	a := alert("c1", "count@example.com", nil)

	require.Error(t, send.Handle(context.Background(), command.SendAlert{Alert: a}))
	require.NoError(t, send.Handle(context.Background(), command.SendAlert{Alert: a}))
	require.NoError(t, send.Handle(context.Background(), command.SendAlert{Alert: a}), "a redelivery")

	want := `
# HELP stockalert_alert_deliveries_total Alert deliveries recorded, by channel (telegram, email, webhook) and state (sent, failed, undeliverable).
# TYPE stockalert_alert_deliveries_total counter
stockalert_alert_deliveries_total{channel="email",state="sent"} 1
stockalert_alert_deliveries_total{channel="telegram",state="sent"} 1
stockalert_alert_deliveries_total{channel="webhook",state="failed"} 1
stockalert_alert_deliveries_total{channel="webhook",state="sent"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "stockalert_alert_deliveries_total"))
}
