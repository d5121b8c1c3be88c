package adminapp

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/stockalert/stockalert/shared/edge/telegrambot"
	"github.com/stockalert/stockalert/shared/telegram"
)

// menuJSON is what `telegram menu` set: each scope's commands.
type menuJSON struct {
	Scope    string          `json:"scope"`
	Commands []menuEntryJSON `json:"commands"`
}

type menuEntryJSON struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// telegramMenu sets the bot's "/" menus (Bot API setMyCommands, scopes all_private_chats and
// all_group_chats) to the commands of the webhook (telegrambot.Menus), as the telegram-bot function
// does when it starts: `make telegram-webhook` runs it after setWebhook.
func (c *cmdline) telegramMenu(ctx context.Context, args []string) error {
	fs := c.flags("telegram menu", false)
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	var (
		token string
		ok    bool
		err   error
	)
	if c.deps.TelegramBotToken != nil {
		token, ok, err = c.deps.TelegramBotToken()
	}
	if err != nil {
		return fmt.Errorf("telegram menu: %w", err)
	}
	if !ok {
		return errors.New("telegram menu: no bot token: set TELEGRAM_BOT_TOKEN (or the secret telegram-bot-token)")
	}
	sender, err := telegram.NewSender(token, c.deps.TelegramAPIURL)
	if err != nil {
		return fmt.Errorf("telegram menu: %w", err)
	}
	private, groups := telegrambot.Menus()
	var out []menuJSON
	for _, m := range []struct {
		scope string
		menu  []telegrambot.MenuCommand
	}{{telegram.ScopePrivateChats, private}, {telegram.ScopeGroupChats, groups}} {
		cmds := make([]telegram.BotCommand, len(m.menu))
		entries := make([]menuEntryJSON, len(m.menu))
		for i, mc := range m.menu {
			cmds[i] = telegram.BotCommand{Command: mc.Command, Description: mc.Description}
			entries[i] = menuEntryJSON{Command: mc.Command, Description: mc.Description}
		}
		if err := sender.SetMyCommands(ctx, m.scope, cmds); err != nil {
			return fmt.Errorf("telegram menu: setMyCommands for %s: %w", m.scope, err)
		}
		out = append(out, menuJSON{Scope: m.scope, Commands: entries})
	}
	return c.output(out, func(w io.Writer) {
		row(w, "SCOPE", "COMMAND", "DESCRIPTION")
		for _, m := range out {
			for _, e := range m.Commands {
				row(w, m.Scope, "/"+e.Command, e.Description)
			}
		}
	})
}
