package telegrambot_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/edge/telegrambot"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

// sayRaw delivers an update, requires a 200 and exactly one reply to chat, and returns it.
func (b *bot) sayRaw(chat int64, update []byte) string {
	b.t.Helper()
	status, replies := b.deliverRaw(update)
	require.Equal(b.t, http.StatusOK, status)
	require.Len(b.t, replies, 1)
	require.Equal(b.t, chat, replies[0].ChatID)
	return replies[0].Text
}

// In a group, the commands that change the account are for its administrators (getChatMember
// creator or administrator, or an anonymous administrator writing as the group); anyone may read.
func TestGroupCommandsThatChangeTheAccountNeedAnAdministrator(t *testing.T) {
	b := newBot(t)
	const group, member, admin, owner = int64(-5001), int64(71), int64(72), int64(73)
	code := b.registerUser("grp@example.com", "AAPL", stockalert.Thresholds{High: stockalert.Float(300)})
	b.fake.SetChatMember(group, admin, "administrator")
	b.fake.SetChatMember(group, owner, "creator")

	require.Contains(t, b.sayRaw(group, telegramtest.GroupUpdate(group, member, "/start")), "Welcome to StockAlert!", "anyone may read the welcome")
	require.Equal(t, "Only the group's administrators may do that.", b.sayRaw(group, telegramtest.GroupUpdate(group, member, "/start "+code)))
	require.Contains(t, b.sayRaw(group, telegramtest.GroupUpdate(group, admin, "/start "+code)), "Linked to grp@example.com")
	require.Equal(t, "Only the group's administrators may do that.", b.sayRaw(group, telegramtest.GroupUpdate(group, member, "/stop")))
	require.False(t, b.mustProfile("grp@example.com").Paused, "a member's /stop changes nothing")
	require.Contains(t, b.sayRaw(group, telegramtest.GroupUpdate(group, member, "/status")), "AAPL", "anyone may read")
	require.Equal(t, "Alerts paused. Send /resume to get them again.", b.sayRaw(group, telegramtest.GroupUpdate(group, owner, "/stop")))

	// An anonymous administrator: the message comes from GroupAnonymousBot on behalf of the group.
	var upd map[string]any
	require.NoError(t, json.Unmarshal(telegramtest.GroupUpdate(group, 1087968824, "/resume"), &upd))
	upd["message"].(map[string]any)["sender_chat"] = map[string]any{"id": group, "title": "Test group", "type": "group"}
	raw, err := json.Marshal(upd)
	require.NoError(t, err)
	require.Equal(t, "Alerts resumed. A ticker that is out of range will alert you at the next price check.", b.sayRaw(group, raw))
	require.False(t, b.mustProfile("grp@example.com").Paused)
}

// A press of a button the bot does not know (an old message's) is answered, so Telegram stops the
// spinner, and changes nothing.
func TestUnknownButtonsAreAnswered(t *testing.T) {
	b := newBot(t)
	status, replies := b.deliverRaw(telegramtest.CallbackUpdate(42, 42, 9, "frobnicate:1"))
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, replies)
	answers := b.fake.CallbackAnswers()
	require.Len(t, answers, 1)
	require.Equal(t, "This button no longer works. Send /help for the commands.", answers[0].Text)
}

// /help lists every command of the menu, and the menus Telegram shows are the same commands.
func TestHelpAndMenuAgree(t *testing.T) {
	b := newBot(t)
	help := b.say(42, "/help")
	private, groups := b.hook.Menu()
	require.NotEmpty(t, private)
	for _, c := range private {
		require.Contains(t, help, "\n/"+c.Command, c.Command)
		require.NotEmpty(t, c.Description)
	}
	require.NotEmpty(t, groups)
	require.LessOrEqual(t, len(groups), len(private))
	// Menus (what `make telegram-webhook` registers) is the webhook's own menu.
	wantPrivate, wantGroups := telegrambot.Menus()
	require.Equal(t, wantPrivate, private)
	require.Equal(t, wantGroups, groups)
}

// A reply past Telegram's 4096 characters is split between lines into several messages.
func TestLongRepliesAreSplit(t *testing.T) {
	parts := telegrambot.SplitMessage(strings.Repeat("0123456789\n", 1000), 4096)
	require.Len(t, parts, 3)
	total := 0
	for _, p := range parts {
		require.LessOrEqual(t, len(p), 4096)
		require.False(t, strings.HasSuffix(p, "\n"))
		total += len(strings.Split(p, "\n"))
	}
	require.Equal(t, 1000, total, "no line lost or cut")
	long := telegrambot.SplitMessage(strings.Repeat("é", 5000), 4096)
	require.Equal(t, []int{4096, 904}, []int{len([]rune(long[0])), len([]rune(long[1]))})
}
