package telegrambot_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

const (
	welcome = "Welcome to StockAlert! I watch stock prices for you and send you a message here when one crosses a level you chose.\n\n" +
		"To begin:\n" +
		"1. /register <email> creates your account, bound to this chat (add a ticker to watch it at once: /register pat@example.com AAPL).\n" +
		"2. /watch sets your first alert, e.g. /watch AAPL above 200.\n\n" +
		"Registered through the API already? Send /start <code> with the link code from your registration."
	registerUsage = "/register takes your e-mail address and, if you like, one ticker to watch: " +
		"/register pat@example.com or /register pat@example.com AAPL."
	tokenNote = "(keep it: it is your key to the HTTP API. I show it once; /token gives you a new one and revokes this one.)"
	notAdmin  = "Only the group's administrators may do that."
)

// tokenIn finds the API token a reply shows (stockalert.NewSecret's 32 characters).
var tokenIn = regexp.MustCompile(`token(?: for [^:]+)?: ([A-Za-z0-9_-]{32})\n`)

func (b *bot) tokenWorks(email, token string) bool {
	b.t.Helper()
	_, err := query.NewAuthenticateHandler(b.store, nil, nil).Handle(b.ctx, query.Authenticate{Email: email, Token: token})
	return err == nil
}

func (b *bot) users() int {
	b.t.Helper()
	var n int
	require.NoError(b.t, b.store.DB().QueryRowContext(b.ctx, `SELECT COUNT(*) FROM users`).Scan(&n))
	return n
}

// /start alone welcomes a chat that is not linked (what the bot does, how to begin, and the command
// list of /help), and tells a linked one which account it gets the alerts of.
func TestStartWithoutCodeWelcomesOrNamesTheAccount(t *testing.T) {
	b := newBot(t)
	help := b.say(42, "/help")
	require.Equal(t, welcome+"\n\n"+help, b.say(42, "/start"))

	code := b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{})
	b.say(42, "/start "+code)
	require.Equal(t, "Linked to pat@example.com: you will get alerts for AAPL here. "+
		"Send /status to see your thresholds, /help for the commands.", b.say(42, "/start"))
}

// /register in a private chat creates the account bound to the chat and shows the API token once; the
// same update delivered again registers nothing more and says so without a token.
func TestRegisterInAPrivateChat(t *testing.T) {
	b := newBot(t)
	upd := telegramtest.Update(42, "/register Pat@Example.com AAPL")
	got := b.sayRaw(42, upd)
	m := tokenIn.FindStringSubmatch(got)
	require.NotNil(t, m, got)
	token := m[1]
	require.Equal(t, "Registered pat@example.com: its alerts will come to this chat. You watch AAPL (no alert level yet).\n\n"+
		"Your API token: "+token+"\n"+tokenNote+"\n\n"+
		"Next: set an alert with /watch, e.g. /watch AAPL above 200. /help lists the commands.", got)
	require.True(t, b.tokenWorks("pat@example.com", token), "the token shown is the account's")
	require.Equal(t, int64(42), *b.mustProfile("pat@example.com").TelegramChatID)

	// Telegram delivers the same update again (the reply was lost, say): nothing new.
	require.Equal(t, "This chat is registered as pat@example.com already. Lost your API token? /token gives you a new one.",
		b.sayRaw(42, upd))
	require.Equal(t, 1, b.users())
	require.True(t, b.tokenWorks("pat@example.com", token))

	// The chat is taken; the address is taken; bad input is explained and changes nothing.
	require.Equal(t, "This chat is already linked to pat@example.com: one chat gets the alerts of one account. "+
		"Register the other address from another chat.", b.say(42, "/register other@example.com"))
	require.Equal(t, "That e-mail address is already registered. If it is yours, link this chat with /start <code> "+
		"and the link code from your registration (POST /users/{email}/telegram-link gives a new one).",
		b.say(43, "/register pat@example.com"))
	require.Equal(t, registerUsage, b.say(43, "/register"))
	require.Equal(t, registerUsage, b.say(43, "/register a@example.com AAPL MSFT"))
	require.Equal(t, "That e-mail address did not work: \"not-an-email\" is not an e-mail address. "+
		"Send /register followed by your e-mail, e.g. /register pat@example.com.",
		b.say(43, "/register not-an-email"))
	require.Equal(t, "That did not work: \"AA%PL\" is not a symbol: use letters and digits, joined by single . - = ^ & "+
		"(a ^ may also lead), ending with a letter or digit. Send /help for the commands.",
		b.say(43, "/register a@example.com AA%PL"))
	require.Equal(t, 1, b.users())

	// No ticker is needed.
	got = b.say(44, "/register sam@example.com")
	token = tokenIn.FindStringSubmatch(got)[1]
	require.Equal(t, "Registered sam@example.com: its alerts will come to this chat.\n\n"+
		"Your API token: "+token+"\n"+tokenNote+"\n\n"+
		"Next: set an alert with /watch, e.g. /watch AAPL above 200. /help lists the commands.", got)
}

// In a group only an administrator registers, and the reply never shows a token.
func TestRegisterInAGroup(t *testing.T) {
	b := newBot(t)
	const group, member, admin = int64(-5002), int64(81), int64(82)
	b.fake.SetChatMember(group, admin, "administrator")
	require.Equal(t, notAdmin, b.sayRaw(group, telegramtest.GroupUpdate(group, member, "/register grp@example.com")))
	require.Zero(t, b.users())
	require.Equal(t, "Registered grp@example.com: its alerts will come to this chat.\n\n"+
		"I never show an API token in a group. You need none to use me: the commands here do what the HTTP API does.\n\n"+
		"Next: set an alert with /watch, e.g. /watch AAPL above 200. /help lists the commands.",
		b.sayRaw(group, telegramtest.GroupUpdate(group, admin, "/register grp@example.com")))
	require.Equal(t, int64(group), *b.mustProfile("grp@example.com").TelegramChatID)
	require.Equal(t, "This chat is registered as grp@example.com already.",
		b.sayRaw(group, telegramtest.GroupUpdate(group, admin, "/register grp@example.com")))

	// /token is for private chats: the group is refused and nothing changes.
	require.Equal(t, "Send that command in a private chat with me: its answer is for your eyes only.",
		b.sayRaw(group, telegramtest.GroupUpdate(group, admin, "/token")))
}

// /token gives the chat's account a new API token, shown once, and the old one stops working.
func TestTokenReplacesTheAPIToken(t *testing.T) {
	b := newBot(t)
	require.Equal(t, notLinked, b.say(42, "/token"))

	old := tokenIn.FindStringSubmatch(b.say(42, "/register pat@example.com"))[1]
	upd := telegramtest.Update(42, "/token")
	got := b.sayRaw(42, upd)
	m := tokenIn.FindStringSubmatch(got)
	require.NotNil(t, m, got)
	fresh := m[1]
	require.Equal(t, "Your new API token for pat@example.com: "+fresh+"\n"+tokenNote+"\n\nThe previous token no longer works.", got)
	require.True(t, b.tokenWorks("pat@example.com", fresh))
	require.False(t, b.tokenWorks("pat@example.com", old), "the old token is revoked")

	// Delivered again, /token replaces the token again: only the one shown last works.
	last := tokenIn.FindStringSubmatch(b.sayRaw(42, upd))[1]
	require.NotEqual(t, fresh, last)
	require.True(t, b.tokenWorks("pat@example.com", last))
	require.False(t, b.tokenWorks("pat@example.com", fresh))
}

// relinkSetup has chat 42 linked to old@example.com and new@example.com linked to chat 43, holding a
// fresh link code.
func relinkSetup(t *testing.T, b *bot) string {
	t.Helper()
	b.say(42, "/start "+b.registerUser("old@example.com", "AAPL", stockalert.Thresholds{}))
	b.say(43, "/start "+b.registerUser("new@example.com", "MSFT", stockalert.Thresholds{}))
	code := stockalert.NewSecret()
	require.NoError(t, command.NewIssueLinkCodeHandler(b.store, nil, nil).Handle(b.ctx,
		command.IssueLinkCode{Email: "new@example.com", CodeHash: stockalert.HashSecret(code)}))
	return code
}

// /start <code> in a chat linked to another account asks before moving it; "Link to" moves it and
// tells the chat the account leaves; the press delivered again changes nothing more.
func TestStartWithAnotherAccountsCodeAsksBeforeMovingTheChat(t *testing.T) {
	b := newBot(t)
	code := relinkSetup(t, b)

	status, replies := b.deliver(42, "/start "+code)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, replies, 1)
	require.Equal(t, "This chat gets the alerts of old@example.com. Link it to new@example.com instead? "+
		"It would then get only the alerts of new@example.com, and old@example.com would have no chat until it links one again.",
		replies[0].Text)
	require.JSONEq(t, `{"inline_keyboard":[[{"text":"Link to new@example.com","callback_data":"relink:`+code+`"}],`+
		`[{"text":"Keep old@example.com","callback_data":"keep:"}]]}`, replies[0].ReplyMarkup)
	require.Equal(t, int64(42), *b.mustProfile("old@example.com").TelegramChatID, "nothing moved yet")
	require.Equal(t, int64(43), *b.mustProfile("new@example.com").TelegramChatID)

	press := telegramtest.CallbackUpdate(42, 42, replies[0].MessageID, "relink:"+code)
	status, sent := b.deliverRaw(press)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, sent, 2)
	require.Equal(t, int64(43), sent[0].ChatID)
	require.Equal(t, "This chat no longer gets the alerts of new@example.com: it was linked to another chat.", sent[0].Text)
	require.Equal(t, int64(42), sent[1].ChatID)
	require.Equal(t, "Linked to new@example.com: you will get alerts for MSFT here. "+
		"Send /status to see your thresholds, /help for the commands.", sent[1].Text)
	answers := b.fake.CallbackAnswers()
	require.Equal(t, "Linked to new@example.com", answers[len(answers)-1].Text)
	require.Nil(t, b.mustProfile("old@example.com").TelegramChatID)
	require.Equal(t, int64(42), *b.mustProfile("new@example.com").TelegramChatID)

	// Telegram delivers the press again: answered, nothing sent, nothing moved.
	status, sent = b.deliverRaw(press)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, sent)
	answers = b.fake.CallbackAnswers()
	require.Equal(t, "This chat gets the alerts of new@example.com.", answers[len(answers)-1].Text)
	require.Equal(t, int64(42), *b.mustProfile("new@example.com").TelegramChatID)

	// The same question answered in a chat that was never linked: the code is used up.
	status, sent = b.deliverRaw(telegramtest.CallbackUpdate(44, 44, 1, "relink:"+code))
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, sent)
	answers = b.fake.CallbackAnswers()
	require.Equal(t, unknownCode, answers[len(answers)-1].Text)
}

// "Keep" changes nothing, and the code stays usable.
func TestKeepingTheLinkChangesNothing(t *testing.T) {
	b := newBot(t)
	code := relinkSetup(t, b)
	_, replies := b.deliver(42, "/start "+code)
	require.Len(t, replies, 1)
	status, sent := b.deliverRaw(telegramtest.CallbackUpdate(42, 42, replies[0].MessageID, "keep:"))
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, sent)
	answers := b.fake.CallbackAnswers()
	require.Equal(t, "Nothing changed: this chat still gets the alerts of old@example.com.", answers[len(answers)-1].Text)
	require.Equal(t, int64(42), *b.mustProfile("old@example.com").TelegramChatID)
	require.Equal(t, int64(43), *b.mustProfile("new@example.com").TelegramChatID)

	// The new account's own chat uses the code without a question.
	require.Equal(t, "Linked to new@example.com: you will get alerts for MSFT here. "+
		"Send /status to see your thresholds, /help for the commands.", b.say(43, "/start "+code))
}

// In a group only an administrator answers the question.
func TestRelinkInAGroupNeedsAnAdministrator(t *testing.T) {
	b := newBot(t)
	const group, member, admin = int64(-5003), int64(91), int64(92)
	b.fake.SetChatMember(group, admin, "administrator")
	b.sayRaw(group, telegramtest.GroupUpdate(group, admin, "/start "+b.registerUser("old@example.com", "AAPL", stockalert.Thresholds{})))
	code := b.registerUser("new@example.com", "MSFT", stockalert.Thresholds{})
	require.Contains(t, b.sayRaw(group, telegramtest.GroupUpdate(group, admin, "/start "+code)), "Link it to new@example.com instead?")

	status, sent := b.deliverRaw(telegramtest.CallbackUpdate(group, member, 5, "relink:"+code))
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, sent)
	answers := b.fake.CallbackAnswers()
	require.Equal(t, notAdmin, answers[len(answers)-1].Text)
	require.Equal(t, int64(group), *b.mustProfile("old@example.com").TelegramChatID)

	status, sent = b.deliverRaw(telegramtest.CallbackUpdate(group, admin, 5, "relink:"+code))
	require.Equal(t, http.StatusOK, status)
	require.Len(t, sent, 1, "new@example.com had no chat before: only the group is told")
	require.Equal(t, "Linked to new@example.com: you will get alerts for MSFT here. "+
		"Send /status to see your thresholds, /help for the commands.", sent[0].Text)
	require.Equal(t, int64(group), *b.mustProfile("new@example.com").TelegramChatID)
}
