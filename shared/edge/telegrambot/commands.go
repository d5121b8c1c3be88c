package telegrambot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// request is one command as the webhook received it.
type request struct {
	botCommand
	updateID int64
	chatID   int64
	// fromID is the user who sent it; 0 when it was sent on behalf of a chat (an anonymous group
	// administrator, or a channel).
	fromID int64
	// private: a one-to-one chat with the user; otherwise a group or supergroup.
	private bool
	// asChat: sent by an anonymous administrator on behalf of the group itself (Message.sender_chat
	// is the chat): it counts as an administrator's.
	asChat bool
}

func newRequest(updateID int64, msg *models.Message) request {
	r := request{updateID: updateID, chatID: msg.Chat.ID, private: msg.Chat.Type == models.ChatTypePrivate}
	if msg.From != nil {
		r.fromID = msg.From.ID
	}
	if msg.SenderChat != nil && msg.SenderChat.ID == msg.Chat.ID {
		r.asChat = true
	}
	return r
}

// answer is a reply: its text and, when not nil, rows of buttons under it.
type answer struct {
	text     string
	keyboard [][]stockalert.ChatButton
	// photo, when not nil, is sent as a picture with text as its caption.
	photo []byte
}

// reply is an answer of text alone.
func reply(text string) answer { return answer{text: text} }

// commandFunc runs a command and answers it, or returns the error errorReply explains.
type commandFunc func(ctx context.Context, req request) (answer, error)

// commandSpec is one chat command: what runs it and where it may run.
type commandSpec struct {
	run commandFunc
	// privateOnly commands are refused in groups (they show or change secrets).
	privateOnly bool
	// admin commands change the account: in a group only its administrators may run them.
	admin bool
	// usage is the command's line in /help and its description in Telegram's "/" menu ("" keeps it
	// out of both); args is what follows the command in /help ("<seconds>").
	usage string
	args  string
	// groups lists the command in the groups' "/" menu too.
	groups bool
}

// plainTextCommand is the name the webhook gives to plain text in a private chat.
const plainTextCommand = "_text"

// commandOrder is the order of /help and of the "/" menu.
var commandOrder = []string{"start", "register", "token", "status",
	"watch", "alerts", "delete", "unwatch", "history",
	"price", "chart", "tz", "quiet", "channels",
	"verify",
	"web",
	"set", "stop", "resume", "help"}

// table returns the chat's commands. A command's code lives in a file of its own (cmd_<name>.go).
func (h *Webhook) table() map[string]commandSpec {
	return map[string]commandSpec{
		"start":    {run: h.cmdStart, args: "<code>", usage: "link this chat to your account with the code from your registration", groups: true},
		"register": {run: h.cmdRegister, admin: true, args: "<email> [TICKER]", usage: "create your account, bound to this chat", groups: true},
		"token":    {run: h.cmdToken, privateOnly: true, usage: "a new API token for the HTTP API (the old one stops working)"},
		"status":   {run: h.cmdStatus, usage: "your account, rules and latest prices", groups: true},
		"set":      {run: h.cmdSet, admin: true, args: "<seconds>", usage: "least time between two alerts about a rule that stays breached (0 to 2592000; default 3600)", groups: true},
		"stop":     {run: h.cmdPause(true), admin: true, usage: "pause alerts", groups: true},
		"resume":   {run: h.cmdPause(false), admin: true, usage: "resume alerts", groups: true},
		"help":     {run: h.cmdHelp, usage: "this list", groups: true},

		"watch":   {run: h.cmdWatch, admin: true, args: "<TICKER> <condition> [once]", usage: "add an alert rule; conditions: above <price>, below <price>, <low> <high>, change <n>% [up|down], move <n>% [from <price>]", groups: true},
		"alerts":  {run: h.cmdAlerts, usage: "your alert rules with their ids, states and latest prices", groups: true},
		"delete":  {run: h.cmdDelete, admin: true, args: "<id>", usage: "delete the alert rule with that id (see /alerts)", groups: true},
		"unwatch": {run: h.cmdUnwatch, admin: true, args: "<TICKER>", usage: "delete every alert rule on a ticker", groups: true},
		"history": {run: h.cmdHistory, args: "[TICKER]", usage: "your last 10 alerts and whether they were delivered", groups: true},

		"price": {run: h.cmdPrice, args: "<TICKER> [TICKER…]", usage: "the current price of up to 5 symbols", groups: true},
		"chart": {run: h.cmdChart, args: "<TICKER> [1d|5d|1mo|6mo|1y]", usage: "a chart of the price with your levels and alerts", groups: true},
		"tz":    {run: h.cmdTimeZone, admin: true, args: "<zone>", usage: "the time zone times are shown in, e.g. Europe/Paris (alone: show it)", groups: true},
		"quiet": {run: h.cmdQuiet, admin: true, args: "<HH:MM>-<HH:MM> | off", usage: "hold alerts during these hours, then sum them up (alone: show them)", groups: true},

		// Anyone may see the channels; turning one on or off is for a group's administrators (checked in the command).
		"channels": {run: h.cmdChannels, args: "[telegram|email|webhook on|off]", usage: "where alerts go: Telegram, e-mail, webhook (alone: show them)", groups: true},
		"verify":   {run: h.cmdVerify, privateOnly: true, args: "<code>", usage: "confirm your e-mail address with the code of the verification mail"},

		"web": {run: h.cmdWeb, privateOnly: true, usage: "a one-time link to sign in to the web dashboard (valid 10 minutes)"},

		plainTextCommand: {run: h.cmdPlainText},
	}
}

// errNotAdmin: a group member who is not an administrator tried a command that changes the account.
var errNotAdmin = errors.New("only the group's administrators may do that")

// errPrivateOnly: a command that shows or changes a secret was sent in a group.
var errPrivateOnly = errors.New("send that command in a private chat with the bot")

// dispatch checks where req may run and runs it: an unknown command is answered as such; in a group,
// privateOnly commands are refused and admin commands need an administrator (getChatMember status
// creator or administrator, or an anonymous administrator writing as the group).
func (h *Webhook) dispatch(ctx context.Context, req request, spec commandSpec, known bool) (answer, error) {
	if !known {
		return reply(unknownCommandText(req.name)), nil
	}
	if !req.private {
		if spec.privateOnly {
			return answer{}, errPrivateOnly
		}
		if spec.admin {
			if err := h.checkAdmin(ctx, req.chatID, req.fromID, req.asChat); err != nil {
				return answer{}, err
			}
		}
	}
	return spec.run(ctx, req)
}

// checkAdmin returns nil when user fromID administers group chatID (or asChat: an anonymous
// administrator), errNotAdmin when not, or the Bot API's error.
func (h *Webhook) checkAdmin(ctx context.Context, chatID, fromID int64, asChat bool) error {
	if asChat {
		return nil
	}
	if fromID == 0 || h.bot == nil {
		return errNotAdmin
	}
	status, err := h.bot.ChatMemberStatus(ctx, chatID, fromID)
	if err != nil {
		return fmt.Errorf("check the sender's rights in chat %d: %w", chatID, err)
	}
	if status != "creator" && status != "administrator" {
		return errNotAdmin
	}
	return nil
}

// MenuCommand is one entry of the bot's "/" menu: the command without its "/" and its description.
type MenuCommand struct {
	Command     string
	Description string
}

// Menu returns the bot's command menus for setMyCommands: the private chats' (every command with a
// usage) and the groups' (the commands marked for groups), in /help's order.
func (h *Webhook) Menu() (private, groups []MenuCommand) {
	for _, name := range commandOrder {
		spec := h.commands[name]
		if spec.usage == "" {
			continue
		}
		c := MenuCommand{Command: name, Description: spec.usage}
		private = append(private, c)
		if spec.groups {
			groups = append(groups, c)
		}
	}
	return private, groups
}

// Menus returns the bot's "/" menus as Webhook.Menu does, without a webhook: what `stockalert-admin
// telegram menu` (run by `make telegram-webhook`) registers with setMyCommands.
func Menus() (private, groups []MenuCommand) {
	h := &Webhook{}
	h.commands = h.table()
	return h.Menu()
}

// helpText lists every command with its arguments and usage, in commandOrder.
func (h *Webhook) helpText() string {
	var b strings.Builder
	b.WriteString("Commands:")
	for _, name := range commandOrder {
		spec := h.commands[name]
		if spec.usage == "" {
			continue
		}
		b.WriteString("\n/" + name)
		if spec.args != "" {
			b.WriteString(" " + spec.args)
		}
		b.WriteString(" - " + spec.usage)
	}
	return b.String()
}

// splitMessage cuts text into parts of at most limit UTF-16 code units (Telegram's measure), between
// lines where it can, within a line where a line alone is too long.
func splitMessage(text string, limit int) []string {
	if utf16Len(text) <= limit {
		return []string{text}
	}
	var (
		parts []string
		cur   strings.Builder
		n     int
	)
	flush := func() {
		if cur.Len() > 0 {
			parts = append(parts, strings.TrimRight(cur.String(), "\n"))
			cur.Reset()
			n = 0
		}
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		ln := utf16Len(line)
		if n+ln > limit {
			flush()
		}
		for ln > limit { // a single line longer than a message: cut it by runes
			cut, used := 0, 0
			for i, r := range line {
				w := len(utf16.Encode([]rune{r}))
				if used+w > limit {
					cut = i
					break
				}
				used += w
			}
			parts = append(parts, line[:cut])
			line, ln = line[cut:], utf16Len(line[cut:])
		}
		cur.WriteString(line)
		n += ln
	}
	flush()
	return parts
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }
