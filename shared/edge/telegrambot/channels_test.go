package telegrambot_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/telegrambot"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

const channelsUsage = "Send /channels to see where your alerts go, or /channels email on, /channels webhook off, /channels telegram on."

func TestChannelsShowsAndSwitchesTheChannels(t *testing.T) {
	b := newBot(t)
	b.linked(42, "pat@example.com")
	require.Equal(t, "Your alerts go to:\nTelegram: on (this chat)\ne-mail: off (pat@example.com)\n"+
		"webhook: off (no URL registered: add one with the HTTP API)\n\n"+channelsUsage, b.say(42, "/channels"))

	require.Equal(t, "Alerts no longer go to Telegram.", b.say(42, "/channels telegram off"))
	require.Contains(t, b.say(42, "/channels"), "\nTelegram: off (this chat)\n")
	require.Equal(t, "Alerts now go to Telegram.", b.say(42, "/channels Telegram ON"))

	require.Equal(t, "Your webhook has no URL yet: register one with the HTTP API first, then send /channels webhook on.",
		b.say(42, "/channels webhook on"))
	require.Equal(t, "That did not work: e-mail is not configured on this server.", b.say(42, "/channels email on"),
		"a server without e-mail says so")
	require.Contains(t, b.say(42, "/channels"), "\ne-mail: off (pat@example.com)\n", "nothing changed")

	uid := b.mustProfile("pat@example.com").UserID
	require.NoError(t, b.store.SetChannelTarget(b.ctx, uid, stockalert.ChannelWebhook, "https://hooks.example.com/pat", "whsec_eA=="))
	require.Equal(t, "Alerts now go to webhook.", b.say(42, "/channels webhook on"))
	require.NoError(t, b.store.DisableChannel(b.ctx, uid, stockalert.ChannelWebhook, "the webhook failed 10 times in a row"))
	out := b.say(42, "/channels")
	require.Contains(t, out, "\nwebhook: off (the webhook failed 10 times in a row)")
	require.NotContains(t, out, "whsec_")

	for _, bad := range []string{"/channels sms on", "/channels email", "/channels email maybe", "/channels email on now"} {
		require.Contains(t, b.say(42, bad), channelsUsage, bad)
	}
	require.Equal(t, notLinked, b.say(43, "/channels"))
	require.Equal(t, notLinked, b.say(43, "/channels telegram off"))
}

// verifier stands in for the e-mail channel's verification mail (sent by its own adapter).
type verifier struct{ asked []stockalert.Email }

func (v *verifier) SendVerification(_ context.Context, u stockalert.User) error {
	v.asked = append(v.asked, u.Email)
	return nil
}

func TestChannelsEmailOnAsksForTheConfirmation(t *testing.T) {
	v := &verifier{}
	late := &lateEnable{}
	b := newBot(t, func(c *telegrambot.WebhookConfig) { c.EnableChannel = late })
	late.h = command.NewEnableChannelHandler(b.store, v, nil, nil) // over the bot's store, made with it
	b.linked(42, "pat@example.com")
	require.Equal(t, "Alerts now go to e-mail. We sent a mail to confirm your address: follow its link. No alert goes there until you do.",
		b.say(42, "/channels email on"))
	require.Equal(t, []stockalert.Email{"pat@example.com"}, v.asked)
	require.Contains(t, b.say(42, "/channels"), "\ne-mail: on, waiting for you to confirm pat@example.com (see the mail we sent)\n")
}

// lateEnable is an EnableChannel handler given to the webhook before the store it works on exists.
type lateEnable struct{ h command.EnableChannelHandler }

func (l *lateEnable) Handle(ctx context.Context, cmd command.EnableChannel) error {
	return l.h.Handle(ctx, cmd)
}

// In a group anyone may see the channels; only administrators switch them.
func TestGroupChannelChangesNeedAnAdministrator(t *testing.T) {
	b := newBot(t)
	const group, member, admin = int64(-5003), int64(91), int64(92)
	b.fake.SetChatMember(group, admin, "administrator")
	code := b.registerUser("grpch@example.com", "", stockalert.Thresholds{})
	require.Contains(t, b.sayRaw(group, telegramtest.GroupUpdate(group, admin, "/start "+code)), "Linked to grpch@example.com")
	require.Contains(t, b.sayRaw(group, telegramtest.GroupUpdate(group, member, "/channels")), "Telegram: on (this chat)")
	require.Equal(t, notAdmin, b.sayRaw(group, telegramtest.GroupUpdate(group, member, "/channels telegram off")))
	require.Contains(t, b.sayRaw(group, telegramtest.GroupUpdate(group, member, "/channels")), "Telegram: on (this chat)")
	require.Equal(t, "Alerts no longer go to Telegram.", b.sayRaw(group, telegramtest.GroupUpdate(group, admin, "/channels telegram off")))
}

// /history shows each channel an alert went to.
func TestHistoryShowsEveryChannel(t *testing.T) {
	b := newBot(t)
	b.linked(42, "pat@example.com")
	require.Contains(t, b.say(42, "/watch AAPL above 200"), "Rule 1:")
	evaluate := command.NewEvaluatePriceHandler(b.store, stockalert.TopicAlerts, nil, nil)
	require.NoError(t, evaluate.Handle(b.ctx, command.EvaluatePrice{Event: stockalert.NewPriceEvent("ev-1",
		stockalert.Quote{Ticker: "AAPL", Price: 210, Currency: "USD", Time: time.Date(2026, 3, 2, 14, 45, 0, 0, time.UTC)})}))
	alerts, err := query.NewAlertHistoryHandler(b.store, nil, nil).Handle(b.ctx, query.AlertHistory{Email: "pat@example.com"})
	require.NoError(t, err)
	require.Len(t, alerts, 1)
	uid := b.mustProfile("pat@example.com").UserID
	require.NoError(t, command.NewRecordNotificationHandler(b.store, nil, nil).Handle(b.ctx, command.RecordNotification{
		Alert: stockalert.AlertEvent{EventID: alerts[0].EventID}, UserID: uid, State: stockalert.Sent}))
	require.NoError(t, b.store.RecordChannelDelivery(b.ctx, command.ChannelOutcome{EventID: alerts[0].EventID, Channel: stockalert.ChannelEmail,
		UserID: uid, State: stockalert.Undeliverable, Error: "550 5.1.1", Reason: "the mail server refused the address"}))
	require.NoError(t, b.store.RecordChannelDelivery(b.ctx, command.ChannelOutcome{EventID: alerts[0].EventID, Channel: stockalert.ChannelWebhook,
		UserID: uid, State: stockalert.Failed, Error: "503"}))
	require.Equal(t, "Your last alerts:\n14:45 UTC AAPL above 200.00 USD, at 210.00 USD: Telegram sent, "+
		"e-mail not delivered (the mail server refused the address), webhook not sent yet", b.say(42, "/history"))
}

// /watch … via names the channels a rule goes to.
func TestWatchViaChannels(t *testing.T) {
	b := newBot(t)
	b.linked(42, "pat@example.com")
	out := b.say(42, "/watch AAPL above 200 once via Email,webhook")
	require.Contains(t, out, "Rule 1: AAPL above 200")
	require.Contains(t, out, "\nIts alerts go to e-mail and webhook only.")
	views, err := query.NewRulesHandler(b.store, query.Freshness{}, nil, nil).Handle(b.ctx, query.Rules{Email: "pat@example.com"})
	require.NoError(t, err)
	require.Len(t, views, 1)
	require.Equal(t, []stockalert.Channel{stockalert.ChannelEmail, stockalert.ChannelWebhook}, views[0].Rule.Channels)
	require.Equal(t, stockalert.RepeatOnce, views[0].Rule.Repeat)

	require.Contains(t, b.say(42, "/watch AAPL above 200 via sms"), "After via come channels: telegram, email or webhook")
	require.Contains(t, b.say(42, "/watch AAPL above 200 via email,email"), "named twice")
	require.Contains(t, b.say(42, "/watch AAPL 150 200 via email"), "use above and below rules to choose channels")
	require.Contains(t, b.say(42, "/watch AAPL above 200 via telegram"), "Rule 2:", "other channels: another rule")
	views, err = query.NewRulesHandler(b.store, query.Freshness{}, nil, nil).Handle(b.ctx, query.Rules{Email: "pat@example.com"})
	require.NoError(t, err)
	require.Len(t, views, 2, "the refused ones wrote nothing")
}
