package telegrambot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/internal/logcapture"
	"github.com/stockalert/stockalert/shared/chart"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/telegrambot"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// token is a well-formed bot token for the fake Bot API server.
const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

const webhookSecret = "wh-secret_0123456789"

// now is the webhook's clock: prices recorded at 14:30 that day show as "14:30 UTC".
var now = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

// bot is a webhook over a real store, replying through a Sender to the fake Bot API.
type bot struct {
	t     testing.TB
	ctx   context.Context
	store *sqlstore.Store
	fake  *telegramtest.Server
	hook  *telegrambot.Webhook
	yahoo *yahootest.Server

	register  command.RegisterUserHandler
	subscribe command.SubscribeHandler
	record    command.RecordPricesHandler
	profile   query.UserProfileHandler
}

func newBot(t testing.TB, adjust ...func(*telegrambot.WebhookConfig)) *bot {
	t.Helper()
	s := storetest.Open(t)
	fake := telegramtest.NewServer(t, token)
	sender, err := telegram.NewSender(token, fake.URL())
	require.NoError(t, err)
	y := yahootest.NewServer(t)
	quotes := newQuotes(t, y)
	cfg := telegrambot.WebhookConfig{
		SecretToken: webhookSecret,
		BotUsername: "@" + telegramtest.BotUsername,
		Link:        command.NewLinkTelegramHandler(s, nil, nil),
		SetInterval: command.NewSetNotifyIntervalHandler(s, nil, nil),
		SetPaused:   command.NewSetPausedHandler(s, nil, nil),
		Status:      query.NewChatProfileHandler(s, query.Freshness{Now: func() time.Time { return now }}, nil, nil),
		MoveChat:    command.NewMoveTelegramChatHandler(s, nil, nil),
		CreateRule:  command.NewCreateRuleHandler(s, func() time.Time { return now }, nil, nil),
		Subscribe:   command.NewSubscribeHandler(s, nil, nil),
		DeleteRule:  command.NewDeleteRuleHandler(s, nil, nil),
		Unsubscribe: command.NewUnsubscribeHandler(s, nil, nil),
		SnoozeRule:  command.NewSnoozeRuleHandler(s, func() time.Time { return now }, nil, nil),
		Rules:       query.NewRulesHandler(s, query.Freshness{Now: func() time.Time { return now }}, nil, nil),
		History:     query.NewAlertHistoryHandler(s, nil, nil),
		Register:    command.NewRegisterUserHandler(s, nil, nil),
		RotateToken: command.NewRotateTokenHandler(s, nil, nil),
		CodeHolder:  query.NewLinkCodeHolderHandler(s, nil, nil),

		Prices:        query.NewCurrentQuotesHandler(quotes, s, time.Second, nil, nil),
		SetTimeZone:   command.NewSetTimeZoneHandler(s, nil, nil),
		SetQuietHours: command.NewSetQuietHoursHandler(s, nil, nil),
		VerifyEmail:   command.NewVerifyEmailHandler(s, s, func() time.Time { return now }, nil, nil),

		Channels:      query.NewChannelStatesHandler(s, nil, nil),
		EnableChannel: command.NewEnableChannelHandler(s, nil, nil, nil),

		Chart:  query.NewChartHandler(s, newHistories(t, y), chart.Renderer{}, nil, nil),
		Photos: sender,

		Replies: sender,
		Bot:     sender,
		Now:     func() time.Time { return now },
	}
	for _, a := range adjust {
		a(&cfg)
	}
	hook, err := telegrambot.NewWebhook(cfg)
	require.NoError(t, err)
	return &bot{
		t: t, ctx: context.Background(), store: s, fake: fake, hook: hook, yahoo: y,
		register:  command.NewRegisterUserHandler(s, nil, nil),
		subscribe: command.NewSubscribeHandler(s, nil, nil),
		record:    command.NewRecordPricesHandler(s, stockalert.TopicPrices, nil, nil),
		profile:   query.NewUserProfileHandler(s, nil, nil),
	}
}

// registerUser registers email watching ticker within th, as user-commands does, and returns the
// one-time link code.
func (b *bot) registerUser(email, ticker string, th stockalert.Thresholds) string {
	b.t.Helper()
	code := stockalert.NewSecret()
	require.NoError(b.t, b.register.Handle(b.ctx, command.RegisterUser{
		Email: email, Ticker: ticker, Thresholds: th,
		TokenHash: stockalert.HashSecret(stockalert.NewSecret()), LinkCodeHash: stockalert.HashSecret(code),
	}))
	return code
}

func (b *bot) mustProfile(email string) query.Profile {
	b.t.Helper()
	p, err := b.profile.Handle(b.ctx, query.UserProfile{Email: email})
	require.NoError(b.t, err)
	return p
}

// post delivers a raw update with the given secret and returns the answer.
func (b *bot) post(update []byte, secret string) *httptest.ResponseRecorder {
	b.t.Helper()
	rec := httptest.NewRecorder()
	b.hook.ServeHTTP(rec, telegramtest.NewWebhookRequest("/", update, secret))
	return rec
}

// deliver sends a text message from chat as Telegram would and returns the status and the replies the
// fake received during the delivery.
func (b *bot) deliver(chat int64, text string) (int, []telegramtest.SentMessage) {
	b.t.Helper()
	return b.deliverRaw(telegramtest.Update(chat, text))
}

func (b *bot) deliverRaw(update []byte) (int, []telegramtest.SentMessage) {
	b.t.Helper()
	before := len(b.fake.Messages())
	rec := b.post(update, webhookSecret)
	return rec.Code, b.fake.Messages()[before:]
}

// say delivers text from chat, requires a 200 and exactly one reply to that chat, and returns it.
func (b *bot) say(chat int64, text string) string {
	b.t.Helper()
	status, replies := b.deliver(chat, text)
	require.Equal(b.t, http.StatusOK, status, "status for %q", text)
	require.Len(b.t, replies, 1, "replies to %q", text)
	require.Equal(b.t, chat, replies[0].ChatID)
	require.Empty(b.t, replies[0].ParseMode, "replies are plain text")
	return replies[0].Text
}

// silent delivers text from chat and requires a 200 and no reply.
func (b *bot) silent(chat int64, text string) {
	b.t.Helper()
	status, replies := b.deliver(chat, text)
	require.Equal(b.t, http.StatusOK, status, "status for %q", text)
	require.Empty(b.t, replies, "no reply to %q", text)
}

func (b *bot) recordPrice(ticker string, price float64, at time.Time) {
	b.t.Helper()
	require.NoError(b.t, b.record.Handle(b.ctx, command.RecordPrices{Quotes: []stockalert.Quote{
		{Ticker: stockalert.Ticker(ticker), Price: price, Currency: "USD", Time: at},
	}}))
}

const (
	unknownCode = "That link code is unknown or already used: each code links one chat, once. " +
		"Get a new one with POST /users/{email}/telegram-link, then send /start <new code>."
	notLinked = "This chat is not linked to an account yet. Open the Telegram link from your registration, " +
		"or send /start <code> with the link code it gave you."
	setUsage = "/set takes a whole number of seconds from 0 to 2592000 (30 days): the least time between two alerts " +
		"about a ticker that stays out of range. For example /set 3600 for at most one an hour, or /set 0 for every price check."
	apology = "Sorry, something went wrong on our side. Your command will be retried automatically in a moment: no need to send it again."
)

func TestWebhookStartLinksTheChatWithTheOneTimeCode(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{High: stockalert.Float(200), Low: stockalert.Float(150)})
	require.NoError(t, b.subscribe.Handle(b.ctx, command.Subscribe{Email: "pat@example.com", Ticker: "MSFT"}))

	require.Equal(t, "Linked to pat@example.com: you will get alerts for AAPL, MSFT here. "+
		"Send /status to see your thresholds, /help for the commands.", b.say(42, "/start "+code))
	require.Equal(t, int64(42), *b.mustProfile("pat@example.com").TelegramChatID)

	// The same /start again (the user tapped the link twice): the code is used up, but the chat is
	// this account's, so say so rather than scold.
	require.Equal(t, "That link code is unknown or already used, but this chat is already linked to pat@example.com "+
		"(alerts for AAPL, MSFT). Send /status for details.", b.say(42, "/start "+code))
}

func TestWebhookNobodyLinksAChatToSomeoneElsesAccount(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{})

	// A guessed code links nothing.
	require.Equal(t, unknownCode, b.say(666, "/start "+stockalert.NewSecret()))
	require.Equal(t, unknownCode, b.say(666, "/start AAAA"))
	require.Nil(t, b.mustProfile("pat@example.com").TelegramChatID)
	require.Equal(t, notLinked, b.say(666, "/status"))

	// Once the owner used the code, nobody else can: the account keeps its chat.
	require.Contains(t, b.say(42, "/start "+code), "Linked to pat@example.com")
	require.Equal(t, unknownCode, b.say(666, "/start "+code))
	require.Equal(t, int64(42), *b.mustProfile("pat@example.com").TelegramChatID)
	require.Equal(t, notLinked, b.say(666, "/stop"))
	require.False(t, b.mustProfile("pat@example.com").Paused)

	// Something that is not a code at all gets told what a code looks like.
	bad := "That does not look like a link code. Send /start followed by the code from your registration " +
		"(letters, digits, - and _), or open the Telegram link it came with."
	require.Equal(t, bad, b.say(666, "/start not a code"))
	require.Equal(t, bad, b.say(666, "/start "+strings.Repeat("x", 65)))
}

func TestWebhookSetChangesTheInterval(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{})
	b.say(42, "/start "+code)
	interval := func() time.Duration { return b.mustProfile("pat@example.com").NotifyInterval }
	require.Equal(t, stockalert.DefaultNotifyInterval, interval())

	require.Equal(t, "Done: while a ticker stays out of range, you will get at most one alert about it every 15m.", b.say(42, "/set 900"))
	require.Equal(t, 15*time.Minute, interval())
	require.Equal(t, "Done: while a ticker stays out of range, you will get at most one alert about it every 1h30m.", b.say(42, "  /SET   5400  "))
	require.Equal(t, 90*time.Minute, interval())
	require.Equal(t, "Done: while a ticker stays out of range, you will get at most one alert about it every 30d.", b.say(42, "/set 2592000"))
	require.Equal(t, "Done: while a ticker stays out of range, you will get an alert at every price check.", b.say(42, "/set 0"))
	require.Equal(t, time.Duration(0), interval())

	for _, bad := range []string{"/set", "/set -1", "/set 2592001", "/set abc", "/set 1.5", "/set 60 120", "/set 99999999999999999999"} {
		require.Equal(t, setUsage, b.say(42, bad), bad)
	}
	require.Equal(t, "15m is 900 seconds: send /set 900\n\n"+setUsage, b.say(42, "/set 15m"))
	require.Equal(t, "1h30m is 5400 seconds: send /set 5400\n\n"+setUsage, b.say(42, "/set 1h30m"))
	require.Equal(t, setUsage, b.say(42, "/set 800h"), "a duration over the bound gets no hint")
	require.Equal(t, time.Duration(0), interval(), "nothing changed")
}

func TestWebhookStatusShowsTickersThresholdsAndPrices(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{High: stockalert.Float(200), Low: stockalert.Float(150)})
	require.NoError(t, b.subscribe.Handle(b.ctx, command.Subscribe{Email: "pat@example.com", Ticker: "EURUSD=X",
		Thresholds: stockalert.Thresholds{Low: stockalert.Float(1.05)}}))
	require.NoError(t, b.subscribe.Handle(b.ctx, command.Subscribe{Email: "pat@example.com", Ticker: "MSFT",
		Thresholds: stockalert.Thresholds{High: stockalert.Float(400)}}))
	require.NoError(t, b.subscribe.Handle(b.ctx, command.Subscribe{Email: "pat@example.com", Ticker: "TSLA"}))
	b.recordPrice("AAPL", 190.12, time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC))
	b.recordPrice("EURUSD=X", 1.08745, time.Date(2026, 3, 1, 21, 59, 0, 0, time.UTC))
	b.say(42, "/start "+code)

	require.Equal(t, `Account: pat@example.com
Alerts: on
Repeat alerts: at most every 1h while a ticker stays out of range

AAPL: above 200.00 USD / below 150.00 USD, last 190.12 USD at 14:30 UTC
EURUSD=X: below 1.05 USD, last 1.08745 USD at 2026-03-01 21:59 UTC
MSFT: above 400.00, no price yet
TSLA: no thresholds, no price yet`, b.say(42, "/status"))

	b.say(42, "/stop")
	b.say(42, "/set 0")
	require.Equal(t, `Account: pat@example.com
Alerts: paused (send /resume to turn them back on)
Repeat alerts: at every price check while a ticker stays out of range

AAPL: above 200.00 USD / below 150.00 USD, last 190.12 USD at 14:30 UTC
EURUSD=X: below 1.05 USD, last 1.08745 USD at 2026-03-01 21:59 UTC
MSFT: above 400.00, no price yet
TSLA: no thresholds, no price yet`, b.say(42, "/status"))
}

// /status shows each price with its currency exactly as quoted (GBp is pence, ZAc South African cents,
// ILA agorot: never GBP, ZAR, ILS), thresholds in that unit, and flags a price from a symbol that has
// stopped trading. The day change follows a price whose previous close is known ("on the day" for a
// price of an earlier day) and nothing follows one whose previous close is not.
func TestWebhookStatusShowsMinorUnitsAndStalePrices(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("liz@example.com", "VOD.L", stockalert.Thresholds{High: stockalert.Float(80), Low: stockalert.Float(60)})
	for _, tk := range []string{"NPN.JO", "TEVA.TA", "OLD.L"} {
		require.NoError(t, b.subscribe.Handle(b.ctx, command.Subscribe{Email: "liz@example.com", Ticker: tk,
			Thresholds: stockalert.Thresholds{Low: stockalert.Float(100)}}))
	}
	require.NoError(t, b.record.Handle(b.ctx, command.RecordPrices{Quotes: []stockalert.Quote{
		{Ticker: "VOD.L", Price: 72.5, Currency: "GBp", Time: now.Add(-31 * time.Minute), PreviousClose: 74.02},
		{Ticker: "NPN.JO", Price: 301520, Currency: "ZAc", Time: now.Add(-3 * 24 * time.Hour), PreviousClose: 298000},
		{Ticker: "TEVA.TA", Price: 5320, Currency: "ILA", Time: now.Add(-time.Hour)},
		{Ticker: "OLD.L", Price: 12.3, Currency: "GBp", Time: time.Date(2025, 10, 2, 16, 30, 0, 0, time.UTC)},
	}}))
	b.say(42, "/start "+code)

	require.Equal(t, `Account: liz@example.com
Alerts: on
Repeat alerts: at most every 1h while a ticker stays out of range

NPN.JO: below 100.00 ZAc, last 301520.00 ZAc (South African cents) (+1.18% on the day) at 2026-02-27 15:00 UTC
OLD.L: below 100.00 GBp, last 12.30 GBp (pence) at 2025-10-02 16:30 UTC (stale: no trade for 150 days, the symbol may be renamed or delisted; no alerts until it trades again)
TEVA.TA: below 100.00 ILA, last 5320.00 ILA (agorot) at 14:00 UTC
VOD.L: above 80.00 GBp / below 60.00 GBp, last 72.50 GBp (pence) (-2.05% today) at 14:29 UTC`, b.say(42, "/status"))
}

// /status marks a simulated price (QUOTE_SOURCE=simulated) as such.
func TestWebhookStatusMarksSimulatedPrices(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("sim@example.com", "AAPL", stockalert.Thresholds{High: stockalert.Float(300)})
	require.NoError(t, b.subscribe.Handle(b.ctx, command.Subscribe{Email: "sim@example.com", Ticker: "MSFT"}))
	require.NoError(t, b.record.Handle(b.ctx, command.RecordPrices{Quotes: []stockalert.Quote{
		{Ticker: "AAPL", Price: 271.5, Currency: "USD", Time: now.Add(-time.Minute), Source: stockalert.QuoteSourceSimulated},
		{Ticker: "MSFT", Price: 498.2, Currency: "USD", Time: now.Add(-time.Minute)},
	}}))
	b.say(42, "/start "+code)
	status := b.say(42, "/status")
	require.Contains(t, status, "AAPL: above 300.00 USD, last 271.50 USD (simulated) at ")
	require.Contains(t, status, "MSFT: no thresholds, last 498.20 USD at ")
}

func TestWebhookStatusFitsInOneMessage(t *testing.T) {
	b := newBot(t)
	email := "many@example.com"
	th := stockalert.Thresholds{High: stockalert.Float(999999999999), Low: stockalert.Float(0.000001)}
	code := b.registerUser(email, "T000000000000000", th)
	var quotes []stockalert.Quote
	for i := range stockalert.DefaultMaxRulesPerUser {
		ticker := fmt.Sprintf("T%015d", i)
		if i > 0 {
			require.NoError(t, b.subscribe.Handle(b.ctx, command.Subscribe{Email: email, Ticker: ticker, Thresholds: th}))
		}
		quotes = append(quotes, stockalert.Quote{Ticker: stockalert.Ticker(ticker), Price: 123456789012.125, Currency: "USD",
			Time: time.Date(2026, 2, 28, 9, 15, 0, 0, time.UTC)})
	}
	require.NoError(t, b.record.Handle(b.ctx, command.RecordPrices{Quotes: quotes}))
	b.say(42, "/start "+code)

	reply := b.say(42, "/status") // say requires the fake to have accepted it: at most 4096 UTF-16 units
	require.LessOrEqual(t, len(utf16.Encode([]rune(reply))), telegram.MaxMessageLen)
	lines := strings.Split(reply, "\n")
	last := lines[len(lines)-1]
	require.Regexp(t, `^… and \d+ more tickers$`, last)
	var more int
	_, err := fmt.Sscanf(strings.TrimPrefix(last, "… and "), "%d", &more)
	require.NoError(t, err)
	shown := len(lines) - 5 // account, alerts, repeat, blank line, and the summary
	require.Equal(t, stockalert.DefaultMaxRulesPerUser, shown+more, "every ticker is shown or counted")
	require.Equal(t, "T000000000000000: above 999999999999.00 USD / below 0.000001 USD, last 123456789012.125 USD at 2026-02-28 09:15 UTC", lines[4])
}

func TestWebhookStopAndResume(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{})
	b.say(42, "/start "+code)

	require.Equal(t, "Alerts paused. Send /resume to get them again.", b.say(42, "/stop"))
	require.True(t, b.mustProfile("pat@example.com").Paused)
	require.Equal(t, "Alerts paused. Send /resume to get them again.", b.say(42, "/stop"), "stopping twice is fine")
	require.True(t, b.mustProfile("pat@example.com").Paused)
	require.Equal(t, "Alerts resumed. A ticker that is out of range will alert you at the next price check.", b.say(42, "/resume"))
	require.False(t, b.mustProfile("pat@example.com").Paused)
}

func TestWebhookUnlinkedChat(t *testing.T) {
	b := newBot(t)
	b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{})
	for _, cmd := range []string{"/set 60", "/status", "/stop", "/resume"} {
		require.Equal(t, notLinked, b.say(7, cmd), cmd)
	}
	p := b.mustProfile("pat@example.com")
	require.False(t, p.Paused)
	require.Equal(t, stockalert.DefaultNotifyInterval, p.NotifyInterval)
}

func TestWebhookHelpUnknownCommandsAndAddressing(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{})
	help := b.say(42, "/help")
	for _, cmd := range []string{"/status", "/set <seconds>", "/stop", "/resume", "/start <code>", "/help"} {
		require.Contains(t, help, "\n"+cmd+" - ")
	}
	require.Equal(t, "I don't know /frobnicate. Send /help for the commands.", b.say(42, "/frobnicate now"))
	require.Equal(t, help, b.say(42, "/Help@StockAlert_Test_Bot"), "our username, any case")

	// Plain text in a private chat gets a one-line hint; in a group, nothing.
	require.Equal(t, "I only understand commands. Send /help to see them.", b.say(42, "hello"))
	require.Equal(t, "I only understand commands. Send /help to see them.", b.say(42, "what does /stop do?"))
	b.silent(-42, "hello")
	// Not commands, or not for us: no reply and nothing done.
	b.silent(42, "/")
	b.silent(42, "/path/to/file")
	b.say(42, "/start "+code)
	b.silent(42, "/stop@other_bot")
	require.False(t, b.mustProfile("pat@example.com").Paused, "a command for another bot is not ours")

	// In a group: addressed commands and our known commands are answered; a bare unknown command is
	// probably another bot's and gets no reply.
	const group = -1001234567890
	require.Equal(t, help, b.say(group, "/help@stockalert_test_bot"))
	require.Equal(t, notLinked, b.say(group, "/status"))
	b.silent(group, "/weather")
	require.Equal(t, "I don't know /weather. Send /help for the commands.", b.say(group, "/weather@stockalert_test_bot"))
	b.silent(group, "/help@other_bot")
}

func TestWebhookWithoutUsernameIgnoresAddressedCommands(t *testing.T) {
	b := newBot(t, func(c *telegrambot.WebhookConfig) { c.BotUsername = "" })
	require.Contains(t, b.say(42, "/help"), "Commands:")
	b.silent(42, "/help@stockalert_test_bot")
}

func TestWebhookRefusesWrongOrMissingSecret(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{})
	for _, secret := range []string{"", "wrong", webhookSecret + "x", strings.ToUpper(webhookSecret)} {
		for _, text := range []string{"/start " + code, "/help"} {
			rec := b.post(telegramtest.Update(42, text), secret)
			require.Equal(t, http.StatusUnauthorized, rec.Code, "secret %q", secret)
			require.JSONEq(t, `{"error":"wrong or missing X-Telegram-Bot-Api-Secret-Token"}`, rec.Body.String())
		}
	}
	require.Empty(t, b.fake.Messages(), "nothing was answered")
	require.Nil(t, b.mustProfile("pat@example.com").TelegramChatID, "nothing was linked")
}

func TestWebhookIgnoresWhatIsNotACommand(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{})
	b.say(42, "/start "+code)

	retype := func(update []byte, to string) []byte {
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(update, &m))
		m[to] = m["message"]
		delete(m, "message")
		out, err := json.Marshal(m)
		require.NoError(t, err)
		return out
	}
	for name, update := range map[string][]byte{
		"edited message": retype(telegramtest.Update(42, "/stop"), "edited_message"),
		"channel post":   retype(telegramtest.Update(-1001, "/stop"), "channel_post"),
		"callback query": []byte(`{"update_id":7,"callback_query":{"id":"1","from":{"id":42,"is_bot":false,"first_name":"T"},"chat_instance":"x","data":"stop"}}`),
		"photo":          []byte(`{"update_id":8,"message":{"message_id":1,"date":1,"chat":{"id":42,"type":"private"},"photo":[{"file_id":"a","file_unique_id":"b","width":1,"height":1}]}}`),
		// Valid JSON the update model cannot decode: delivering it again will not help.
		"undecodable": []byte(`{"update_id":9,"message":{"message_id":"one","chat":{"id":42}}}`),
	} {
		status, replies := b.deliverRaw(update)
		require.Equal(t, http.StatusOK, status, name)
		require.Empty(t, replies, name)
	}
	require.False(t, b.mustProfile("pat@example.com").Paused)
}

func TestWebhookRefusesWhatTelegramNeverSends(t *testing.T) {
	b := newBot(t, func(c *telegrambot.WebhookConfig) { c.MaxBodyBytes = 4096 })
	get := httptest.NewRequest(http.MethodGet, "/", nil)
	get.Header.Set(telegrambot.SecretTokenHeader, webhookSecret)
	rec := httptest.NewRecorder()
	b.hook.ServeHTTP(rec, get)
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, http.MethodPost, rec.Header().Get("Allow"))

	for _, body := range []string{"", "not json", "[]", `{"message":{}}`, `{"update_id":"x"}`} {
		rec := b.post([]byte(body), webhookSecret)
		require.Equal(t, http.StatusBadRequest, rec.Code, "body %q", body)
	}
	big := telegramtest.Update(42, "/help "+strings.Repeat("x", 5000))
	rec = b.post(big, webhookSecret)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.Regexp(t, `^\{"error":"request body too large: larger than \d+ bytes","field":"body"\}\n$`, rec.Body.String())
	require.Empty(t, b.fake.Messages())
}

func TestWebhookBlockedChatIsAcknowledged(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{})
	b.say(42, "/start "+code)
	b.fake.RejectChat(42, http.StatusForbidden, telegramtest.DescBlocked)

	status, replies := b.deliver(42, "/stop")
	require.Equal(t, http.StatusOK, status, "the reply can never be delivered: no redelivery")
	require.Empty(t, replies)
	require.True(t, b.mustProfile("pat@example.com").Paused, "the command ran")

	b.fake.RejectChat(42, 0, "")
	b.fake.FailNext("sendMessage", http.StatusForbidden, telegramtest.DescBlocked, 0)
	status, _ = b.deliver(42, "/resume")
	require.Equal(t, http.StatusOK, status)
	require.False(t, b.mustProfile("pat@example.com").Paused)
}

func TestWebhookReplyFailureGetsTheUpdateDeliveredAgain(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{})

	// /start links, then Telegram fails the reply: 5xx, and the redelivered /start finds its code
	// used up by itself and the chat linked.
	start := telegramtest.Update(42, "/start "+code)
	b.fake.FailNext("sendMessage", http.StatusInternalServerError, "Internal Server Error", 0)
	status, replies := b.deliverRaw(start)
	require.Equal(t, http.StatusBadGateway, status)
	require.Empty(t, replies)
	require.Equal(t, int64(42), *b.mustProfile("pat@example.com").TelegramChatID)
	status, replies = b.deliverRaw(start)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, replies, 1)
	require.Equal(t, "That link code is unknown or already used, but this chat is already linked to pat@example.com "+
		"(alerts for AAPL). Send /status for details.", replies[0].Text)

	// A proxy's 502 page and flood control are transient too.
	stop := telegramtest.Update(42, "/stop")
	b.fake.FailNextHTTP("sendMessage", http.StatusBadGateway, "<html>Bad Gateway</html>")
	status, _ = b.deliverRaw(stop)
	require.Equal(t, http.StatusBadGateway, status)
	require.True(t, b.mustProfile("pat@example.com").Paused)
	b.fake.FailNext("sendMessage", http.StatusTooManyRequests, "", 30)
	status, _ = b.deliverRaw(stop)
	require.Equal(t, http.StatusBadGateway, status)
	status, replies = b.deliverRaw(stop)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Alerts paused. Send /resume to get them again.", replies[0].Text)
}

func TestWebhookStoreFailureGetsTheUpdateDeliveredAgainWithOneApology(t *testing.T) {
	var logs logcapture.Buffer
	b := newBot(t, func(c *telegrambot.WebhookConfig) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	code := b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{})
	b.say(42, "/start "+code)
	require.NoError(t, b.store.Close())

	status := telegramtest.Update(42, "/status")
	for attempt := range 3 {
		code, replies := b.deliverRaw(status)
		require.Equal(t, http.StatusInternalServerError, code, "attempt %d", attempt)
		if attempt == 0 {
			require.Len(t, replies, 1)
			require.Equal(t, apology, replies[0].Text)
		} else {
			require.Empty(t, replies, "a redelivery that fails again says nothing more")
		}
	}
	for _, text := range []string{"/set 60", "/stop", "/resume", "/start " + code} {
		code, replies := b.deliver(42, text)
		require.Equal(t, http.StatusInternalServerError, code, text)
		require.Len(t, replies, 1, text)
		require.Equal(t, apology, replies[0].Text, text)
	}
	// Commands that need no store still work.
	require.Contains(t, b.say(42, "/help"), "Commands:")
	require.Equal(t, setUsage, b.say(42, "/set soon"))

	// The failures are logged with the update, chat and command as fields an operator can filter on.
	var failed int
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if strings.HasPrefix(rec["msg"].(string), "telegram webhook: command failed") {
			failed++
			require.Equal(t, 42.0, rec["chat"], line)
			require.NotNil(t, rec["update_id"], line)
			require.Contains(t, []any{"status", "set", "stop", "resume", "start"}, rec["command"], line)
		}
	}
	require.Equal(t, 7, failed, "one line per failed delivery:\n%s", logs.String())
}

func TestWebhookApologyThatCannotBeSentIsRetriedWithTheUpdate(t *testing.T) {
	b := newBot(t)
	require.NoError(t, b.store.Close())
	update := telegramtest.Update(42, "/status")
	b.fake.FailNext("sendMessage", http.StatusBadGateway, "Bad Gateway", 0)
	code, replies := b.deliverRaw(update)
	require.Equal(t, http.StatusInternalServerError, code)
	require.Empty(t, replies)
	code, replies = b.deliverRaw(update)
	require.Equal(t, http.StatusInternalServerError, code)
	require.Len(t, replies, 1, "the apology was not delivered the first time")
	require.Equal(t, apology, replies[0].Text)
}

func TestWebhookWithoutSecretOnlyWhenAllowed(t *testing.T) {
	b := newBot(t, func(c *telegrambot.WebhookConfig) { c.SecretToken, c.AllowNoSecret = "", true })
	rec := b.post(telegramtest.Update(42, "/help"), "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Len(t, b.fake.Messages(), 1)

	// A configured secret is checked even when AllowNoSecret is set.
	b = newBot(t, func(c *telegrambot.WebhookConfig) { c.AllowNoSecret = true })
	require.Equal(t, http.StatusUnauthorized, b.post(telegramtest.Update(42, "/help"), "").Code)
}

func TestNewWebhookRefusesIncompleteConfig(t *testing.T) {
	s := storetest.OpenSQLite(t)
	sender, err := telegram.NewSender(token, "http://127.0.0.1:1")
	require.NoError(t, err)
	valid := func() telegrambot.WebhookConfig {
		return telegrambot.WebhookConfig{
			SecretToken: webhookSecret,
			Link:        command.NewLinkTelegramHandler(s, nil, nil),
			SetInterval: command.NewSetNotifyIntervalHandler(s, nil, nil),
			SetPaused:   command.NewSetPausedHandler(s, nil, nil),
			Status:      query.NewChatProfileHandler(s, query.Freshness{Now: func() time.Time { return now }}, nil, nil),
			MoveChat:    command.NewMoveTelegramChatHandler(s, nil, nil),
			CreateRule:  command.NewCreateRuleHandler(s, nil, nil, nil),
			Subscribe:   command.NewSubscribeHandler(s, nil, nil),
			DeleteRule:  command.NewDeleteRuleHandler(s, nil, nil),
			Unsubscribe: command.NewUnsubscribeHandler(s, nil, nil),
			SnoozeRule:  command.NewSnoozeRuleHandler(s, nil, nil, nil),
			Rules:       query.NewRulesHandler(s, query.Freshness{}, nil, nil),
			History:     query.NewAlertHistoryHandler(s, nil, nil),
			Register:    command.NewRegisterUserHandler(s, nil, nil),
			RotateToken: command.NewRotateTokenHandler(s, nil, nil),
			CodeHolder:  query.NewLinkCodeHolderHandler(s, nil, nil),
			Replies:     sender,

			Prices:        query.NewCurrentQuotesHandler(newQuotes(t, yahootest.NewServer(t)), s, 0, nil, nil),
			SetTimeZone:   command.NewSetTimeZoneHandler(s, nil, nil),
			SetQuietHours: command.NewSetQuietHoursHandler(s, nil, nil),

			Channels:      query.NewChannelStatesHandler(s, nil, nil),
			EnableChannel: command.NewEnableChannelHandler(s, nil, nil, nil),
		}
	}
	_, err = telegrambot.NewWebhook(valid())
	require.NoError(t, err)
	for name, c := range map[string]struct {
		change func(*telegrambot.WebhookConfig)
		want   string
	}{
		"no secret":        {func(c *telegrambot.WebhookConfig) { c.SecretToken = "" }, "secret token is required"},
		"bad secret":       {func(c *telegrambot.WebhookConfig) { c.SecretToken = "has space" }, "1 to 256 characters"},
		"long secret":      {func(c *telegrambot.WebhookConfig) { c.SecretToken = strings.Repeat("a", 257) }, "1 to 256 characters"},
		"bad username":     {func(c *telegrambot.WebhookConfig) { c.BotUsername = "@not a name" }, `bot username "@not a name"`},
		"no link handler":  {func(c *telegrambot.WebhookConfig) { c.Link = nil }, "handlers are required"},
		"no move handler":  {func(c *telegrambot.WebhookConfig) { c.MoveChat = nil }, "handlers are required"},
		"no status":        {func(c *telegrambot.WebhookConfig) { c.Status = nil }, "handlers are required"},
		"no snooze":        {func(c *telegrambot.WebhookConfig) { c.SnoozeRule = nil }, "handlers are required"},
		"no register":      {func(c *telegrambot.WebhookConfig) { c.Register = nil }, "handlers are required"},
		"no token rotator": {func(c *telegrambot.WebhookConfig) { c.RotateToken = nil }, "handlers are required"},
		"no code holder":   {func(c *telegrambot.WebhookConfig) { c.CodeHolder = nil }, "handlers are required"},
		"no replies":       {func(c *telegrambot.WebhookConfig) { c.Replies = nil }, "reply sender is required"},
		"no prices":        {func(c *telegrambot.WebhookConfig) { c.Prices = nil }, "SetQuietHours handlers are required"},
		"no time zone":     {func(c *telegrambot.WebhookConfig) { c.SetTimeZone = nil }, "SetQuietHours handlers are required"},
		"no quiet hours":   {func(c *telegrambot.WebhookConfig) { c.SetQuietHours = nil }, "SetQuietHours handlers are required"},
		"negative maxbody": {func(c *telegrambot.WebhookConfig) { c.MaxBodyBytes = -1 }, "must not be negative"},
		"no channels":      {func(c *telegrambot.WebhookConfig) { c.Channels = nil }, "EnableChannel handlers are required"},
		"no enable":        {func(c *telegrambot.WebhookConfig) { c.EnableChannel = nil }, "EnableChannel handlers are required"},
	} {
		cfg := valid()
		c.change(&cfg)
		_, err := telegrambot.NewWebhook(cfg)
		require.ErrorContains(t, err, c.want, name)
		require.NotContains(t, err.Error(), "has space", "the secret is never repeated")
	}
}

// The webhook's JSON answers are what a person debugging with curl needs; Telegram ignores them.
func TestWebhookAnswersJSON(t *testing.T) {
	b := newBot(t)
	rec := b.post(telegramtest.Update(-42, "hello"), webhookSecret)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	require.JSONEq(t, `{"ok":true,"ignored":"not a command for this bot"}`, rec.Body.String())
	rec = b.post(telegramtest.Update(42, "/help"), webhookSecret)
	require.JSONEq(t, `{"ok":true}`, rec.Body.String())
	rec = b.post([]byte("{"), webhookSecret)
	require.True(t, bytes.Contains(rec.Body.Bytes(), []byte(`"field":"body"`)), rec.Body.String())
}

// BenchmarkWebhookStatus is one /status delivery end to end: secret check, decoding, the ChatProfile
// query on the store (SQLite, or MySQL with MYSQL_DSN) and the reply to the fake Bot API.
func BenchmarkWebhookStatus(b *testing.B) {
	bb := newBot(b)
	code := bb.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{High: stockalert.Float(200), Low: stockalert.Float(150)})
	require.NoError(b, bb.subscribe.Handle(bb.ctx, command.Subscribe{Email: "pat@example.com", Ticker: "MSFT"}))
	bb.recordPrice("AAPL", 190.12, now.Add(-30*time.Minute))
	bb.say(42, "/start "+code)
	update := telegramtest.Update(42, "/status")
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		bb.hook.ServeHTTP(rec, telegramtest.NewWebhookRequest("/", update, webhookSecret))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// A group upgraded to a supergroup: either service message moves the link, silently; the second one
// (and a redelivery) changes nothing; the bot's commands then work in the supergroup.
func TestMigrationServiceMessagesMoveTheLinkSilently(t *testing.T) {
	for _, first := range []string{"migrate_to_chat_id", "migrate_from_chat_id"} {
		t.Run(first+" first", func(t *testing.T) {
			b := newBot(t)
			group, supergroup := int64(-4101), int64(-1004101004101)
			if first == "migrate_from_chat_id" {
				group, supergroup = -4102, -1004102004102
			}
			code := b.registerUser("kim@example.com", "AAPL", stockalert.Thresholds{})
			b.fake.SetChatMember(group, groupSender, "administrator")
			b.say(group, "/start "+code)
			to, from := telegramtest.MigrateToUpdate(group, supergroup), telegramtest.MigrateFromUpdate(supergroup, group)
			if first == "migrate_from_chat_id" {
				to, from = from, to
			}
			for _, upd := range [][]byte{to, from, to} {
				status, replies := b.deliverRaw(upd)
				require.Equal(t, http.StatusOK, status)
				require.Empty(t, replies, "moving the link sends no message to either chat")
				require.Equal(t, supergroup, *b.mustProfile("kim@example.com").TelegramChatID)
			}
			require.Contains(t, b.say(supergroup, "/status@"+telegramtest.BotUsername), "AAPL")
		})
	}
}

// A migration the store cannot record is delivered again (500), with no word in the chat.
func TestMigrationServiceMessageIsRedeliveredWhenTheStoreFails(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("lev@example.com", "AAPL", stockalert.Thresholds{})
	b.say(-4103, "/start "+code)
	require.NoError(t, b.store.Close())
	status, replies := b.deliverRaw(telegramtest.MigrateToUpdate(-4103, -1004103004103))
	require.Equal(t, http.StatusInternalServerError, status)
	require.Empty(t, replies)
}

// /status counts the rules that are not ranges, so a user whose only rules are levels or percent
// moves is not told they watch nothing.
func TestWebhookStatusCountsOtherRules(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("lev@example.com", "", stockalert.Thresholds{})
	u, err := b.store.UserByEmail(b.ctx, "lev@example.com")
	require.NoError(t, err)
	for _, r := range []stockalert.Rule{
		{UserID: u.ID, Ticker: "NVDA", Kind: stockalert.KindAbove, Level: 200, Repeat: stockalert.RepeatRearm, CreatedAt: now},
		{UserID: u.ID, Ticker: "MSFT", Kind: stockalert.KindChangePct, Percent: 3, Direction: stockalert.DirectionEither, Repeat: stockalert.RepeatRearm, CreatedAt: now},
	} {
		_, err := b.store.InsertRule(b.ctx, r)
		require.NoError(t, err)
	}
	require.Contains(t, b.say(42, "/start "+code), "you will get the alerts of your 2 alert rules here")
	status := b.say(42, "/status")
	require.NotContains(t, status, "You watch no tickers")
	require.Equal(t, "Account: lev@example.com\nAlerts: on\nRepeat alerts: at most every 1h while a ticker stays out of range\n\n"+
		"2 alert rules (price levels and percent moves): /alerts lists them.", status)
}

// A chat linked to an account that watches nothing is pointed to /watch, not to the HTTP API.
func TestWebhookLinkingAnAccountWithNoRulesPointsToWatch(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("lev@example.com", "", stockalert.Thresholds{})
	require.Equal(t, "Linked to lev@example.com. You watch no tickers yet: set an alert with /watch, e.g. /watch AAPL above 200. "+
		"Send /status to see your thresholds, /help for the commands.", b.say(42, "/start "+code))
}

// groupSender is the user telegramtest.Update names as the sender of a group message.
const groupSender = 7000001
