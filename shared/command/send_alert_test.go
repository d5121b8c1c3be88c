package command_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/alertmessage"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

const botToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

type notifierRig struct {
	store *sqlstore.Store
	tg    *telegramtest.Server
	send  command.SendAlertHandler
}

func newNotifierRig(t *testing.T) *notifierRig {
	store := storetest.Open(t)
	tg := telegramtest.NewServer(t, botToken)
	sender, err := telegram.NewSender(botToken, tg.URL(), telegram.WithTimeout(2*time.Second))
	require.NoError(t, err)
	logger := slog.New(slog.DiscardHandler)
	send := command.NewSendAlertHandler(store, sender, command.TextOnly(alertmessage.Text),
		command.NewRecordNotificationHandler(store, logger, nil), command.NewMoveTelegramChatHandler(store, logger, nil), logger, nil)
	return &notifierRig{store: store, tg: tg, send: send}
}

// user registers email and links chat (0: none) through the one-time code, as the bot would.
func (r *notifierRig) user(t *testing.T, email string, chat int64) {
	t.Helper()
	code := stockalert.NewSecret()
	require.NoError(t, command.NewRegisterUserHandler(r.store, nil, nil).Handle(context.Background(), command.RegisterUser{
		Email: email, Ticker: "AAPL", Thresholds: stockalert.Thresholds{High: stockalert.Float(100)},
		TokenHash: stockalert.HashSecret(email), LinkCodeHash: stockalert.HashSecret(code)}))
	if chat != 0 {
		require.NoError(t, command.NewLinkTelegramHandler(r.store, nil, nil).Handle(context.Background(),
			command.LinkTelegram{Code: code, ChatID: chat}))
	}
}

func (r *notifierRig) state(t *testing.T, email string) []sqlstore.Notification {
	t.Helper()
	log, err := r.store.Notifications(context.Background(), stockalert.Email(email))
	require.NoError(t, err)
	return log
}

func alert(id, email string, chat *int64) stockalert.AlertEvent {
	return stockalert.AlertEvent{EventID: id, Email: stockalert.Email(email), TelegramChatID: chat, Ticker: "AAPL",
		Condition: stockalert.Above, Price: 101.5, Currency: "USD", Threshold: 100, Time: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)}
}

func TestSendAlertGoesToTheLinkedChatOnlyAndOnce(t *testing.T) {
	r := newNotifierRig(t)
	r.user(t, "ann@example.com", 111)
	stranger := int64(999)
	a := alert("a1", "ann@example.com", &stranger) // the event names another chat: it must not matter

	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: a}))
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: a}), "a redelivery")

	msgs := r.tg.Messages()
	require.Len(t, msgs, 1, "sent once")
	require.Equal(t, int64(111), msgs[0].ChatID)
	require.Equal(t, alertmessage.Text(a, time.UTC), msgs[0].Text)
	require.Contains(t, msgs[0].Text, "AAPL")
	log := r.state(t, "ann@example.com")
	require.Len(t, log, 1)
	require.Equal(t, stockalert.Sent, log[0].State)
	require.Equal(t, int64(111), *log[0].ChatID)
}

func TestSendAlertWithoutALinkedChatIsLoggedUndeliverable(t *testing.T) {
	r := newNotifierRig(t)
	r.user(t, "bob@example.com", 0)
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: alert("b1", "bob@example.com", nil)}))
	require.Empty(t, r.tg.Messages())
	log := r.state(t, "bob@example.com")
	require.Len(t, log, 1)
	require.Equal(t, stockalert.Undeliverable, log[0].State)
	require.Equal(t, "no Telegram chat linked", log[0].Reason)
}

func TestSendAlertToABlockedBotIsUndeliverableAndNotRetried(t *testing.T) {
	r := newNotifierRig(t)
	r.user(t, "cy@example.com", 333)
	r.tg.RejectChat(333, 403, telegramtest.DescBlocked)
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: alert("c1", "cy@example.com", nil)}))
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: alert("c1", "cy@example.com", nil)}))
	require.Equal(t, 1, r.tg.Calls("sendMessage"), "an undeliverable alert is final")
	log := r.state(t, "cy@example.com")
	require.Equal(t, stockalert.Undeliverable, log[0].State)
	require.Equal(t, "Telegram refused the chat (the bot was blocked, or the chat is gone)", log[0].Reason,
		"the user's history gets plain words, not the Bot API's error chain")
}

func TestSendAlertFailuresAreLoggedAndRetriedUntilSent(t *testing.T) {
	r := newNotifierRig(t)
	r.user(t, "di@example.com", 444)
	r.tg.FailNext("sendMessage", 500, "Internal Server Error", 0)
	err := r.send.Handle(context.Background(), command.SendAlert{Alert: alert("d1", "di@example.com", nil)})
	require.Error(t, err)
	require.False(t, errors.Is(err, stockalert.ErrUndeliverable))
	log := r.state(t, "di@example.com")
	require.Equal(t, stockalert.Failed, log[0].State)

	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: alert("d1", "di@example.com", nil)}))
	log = r.state(t, "di@example.com")
	require.Equal(t, stockalert.Sent, log[0].State)
	require.Equal(t, 2, log[0].Attempts)
	require.Len(t, r.tg.Messages(), 1)
}

func TestSendAlertForADeletedUserIsDropped(t *testing.T) {
	r := newNotifierRig(t)
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: alert("e1", "gone@example.com", nil)}))
	require.Empty(t, r.tg.Messages())
}

func TestSendAlertRefusesMalformedAlerts(t *testing.T) {
	r := newNotifierRig(t)
	_, ok := stockalert.AsValidation(r.send.Handle(context.Background(), command.SendAlert{Alert: alert("", "x@example.com", nil)}))
	require.True(t, ok)
	_, ok = stockalert.AsValidation(r.send.Handle(context.Background(), command.SendAlert{Alert: alert("f1", "not-an-email", nil)}))
	require.True(t, ok)
}

// A group upgraded to a supergroup: the first sendMessage is refused with migrate_to_chat_id; the link
// moves and the alert reaches the supergroup once, in the same call; a redelivery sends nothing more,
// and the next alert goes straight to the new id.
func TestSendAlertFollowsAMigratedGroup(t *testing.T) {
	r := newNotifierRig(t)
	const group, supergroup = int64(-4001), int64(-1004001004001)
	r.user(t, "gia@example.com", group)
	r.tg.MigrateChat(group, supergroup)

	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: alert("g1", "gia@example.com", nil)}))
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: alert("g1", "gia@example.com", nil)}), "a redelivery")
	msgs := r.tg.Messages()
	require.Len(t, msgs, 1, "delivered once, and nothing else sent to either chat")
	require.Equal(t, supergroup, msgs[0].ChatID)
	u, err := r.store.UserByEmail(context.Background(), "gia@example.com")
	require.NoError(t, err)
	require.Equal(t, supergroup, *u.TelegramChatID, "the link names the supergroup")
	log := r.state(t, "gia@example.com")
	require.Len(t, log, 1)
	require.Equal(t, stockalert.Sent, log[0].State)
	require.Equal(t, supergroup, *log[0].ChatID)
	require.Equal(t, 2, r.tg.Calls("sendMessage"), "one refused by the old group, one accepted by the supergroup")

	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: alert("g2", "gia@example.com", nil)}))
	require.Equal(t, 3, r.tg.Calls("sendMessage"), "the next alert goes straight to the new id")
}

// When the supergroup was linked to another account before the migration signal arrived, the alert is
// not sent there: it is undeliverable for this account, whose dead link is cleared.
func TestSendAlertDoesNotFollowAGroupIntoAnotherAccount(t *testing.T) {
	r := newNotifierRig(t)
	const group, supergroup = int64(-4002), int64(-1004002004002)
	r.user(t, "hep@example.com", group)
	r.user(t, "ivo@example.com", supergroup)
	r.tg.MigrateChat(group, supergroup)
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: alert("h1", "hep@example.com", nil)}))
	require.Empty(t, r.tg.Messages())
	log := r.state(t, "hep@example.com")
	require.Equal(t, stockalert.Undeliverable, log[0].State)
	u, err := r.store.UserByEmail(context.Background(), "hep@example.com")
	require.NoError(t, err)
	require.Nil(t, u.TelegramChatID)
}

// Two deliveries of one alert at once (a redelivery racing the first, or copies from two relays): the
// second finds the alert claimed while Telegram is still answering the first, sends nothing and asks
// to be retried; retried, it finds the alert sent. Before, both read "not logged yet" and both sent.
func TestSendAlertTwiceAtOnceSendsOneMessage(t *testing.T) {
	r := newNotifierRig(t)
	r.user(t, "ann@example.com", 111)
	a := alert("dup", "ann@example.com", nil)
	ctx := context.Background()

	release := r.tg.HoldNext("sendMessage")
	defer release()
	first := make(chan error, 1)
	go func() { first <- r.send.Handle(ctx, command.SendAlert{Alert: a}) }()
	require.Eventually(t, func() bool { return r.tg.Calls("sendMessage") == 1 }, 10*time.Second, 2*time.Millisecond,
		"the first delivery reaches Telegram")

	err := r.send.Handle(ctx, command.SendAlert{Alert: a})
	require.ErrorIs(t, err, stockalert.ErrInFlight, "the second delivery while the first is in flight")
	require.Equal(t, 1, r.tg.Calls("sendMessage"), "the second delivery did not call Telegram")
	log := r.state(t, "ann@example.com")
	require.Len(t, log, 1)
	require.Equal(t, stockalert.Sending, log[0].State)

	release()
	require.NoError(t, <-first)
	require.NoError(t, r.send.Handle(ctx, command.SendAlert{Alert: a}), "the retried second delivery")
	require.Equal(t, 1, r.tg.Calls("sendMessage"))
	require.Len(t, r.tg.Messages(), 1)
	log = r.state(t, "ann@example.com")
	require.Equal(t, stockalert.Sent, log[0].State)
	require.Equal(t, 1, log[0].Attempts)
}

// Many deliveries of one alert at once, each retried while another is in flight, as the connector
// would: one sendMessage in all.
func TestSendAlertManyDeliveriesAtOnceSendOneMessage(t *testing.T) {
	r := newNotifierRig(t)
	r.user(t, "bob@example.com", 222)
	a := alert("many", "bob@example.com", nil)
	const deliveries = 8
	var wg sync.WaitGroup
	errs := make(chan error, deliveries)
	for range deliveries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				err := r.send.Handle(context.Background(), command.SendAlert{Alert: a})
				if !errors.Is(err, stockalert.ErrInFlight) {
					errs <- err
					return
				}
				_, _ = r.tg.WaitMessages(context.Background(), 1) // retry once the holder has sent
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, r.tg.Calls("sendMessage"))
	require.Len(t, r.tg.Messages(), 1)
}

func TestSendAlertWithoutABotTokenSaysTelegramIsOff(t *testing.T) {
	store := storetest.Open(t)
	logger := slog.New(slog.DiscardHandler)
	send := command.NewSendAlertHandler(store, telegram.NewDryRun(logger), command.TextOnly(alertmessage.Text),
		command.NewRecordNotificationHandler(store, logger, nil), command.NewMoveTelegramChatHandler(store, logger, nil), logger, nil)
	r := &notifierRig{store: store, send: send}
	r.user(t, "dee@example.com", 444)
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: alert("d1", "dee@example.com", nil)}))
	log := r.state(t, "dee@example.com")
	require.Equal(t, stockalert.Undeliverable, log[0].State)
	require.Equal(t, "Telegram is not configured on this server", log[0].Reason)
}

// The alert's time is written in the user's zone (/tz).
func TestSendAlertWritesTimesInTheUsersZone(t *testing.T) {
	r := newNotifierRig(t)
	r.user(t, "zoe@example.com", 112)
	require.NoError(t, command.NewSetTimeZoneHandler(r.store, nil, nil).Handle(context.Background(),
		command.SetTimeZone{ChatID: 112, Zone: "America/New_York"}))
	require.NoError(t, r.send.Handle(context.Background(), command.SendAlert{Alert: alert("z1", "zoe@example.com", nil)}))
	msgs := r.tg.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, "🔔 AAPL is above your high threshold of 100.00 USD\nPrice: 101.50 USD at 2026-03-02 10:00 EST", msgs[0].Text)
}
