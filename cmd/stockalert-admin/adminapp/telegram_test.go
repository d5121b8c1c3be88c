package adminapp_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/cmd/stockalert-admin/adminapp"
	"github.com/stockalert/stockalert/shared/edge/telegrambot"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

const botToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// telegram menu registers exactly the webhook's menus with setMyCommands, per scope: the menus
// `make telegram-webhook` sets cannot drift from the command table.
func TestTelegramMenuSetsTheWebhooksCommands(t *testing.T) {
	fake := telegramtest.NewServer(t, botToken)
	deps := adminapp.Deps{TelegramAPIURL: fake.URL(),
		TelegramBotToken: func() (string, bool, error) { return botToken, true, nil }}
	var out, errOut bytes.Buffer
	code := adminapp.Run(context.Background(), deps, []string{"telegram", "menu"}, adminapp.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	require.Equal(t, adminapp.ExitOK, code, errOut.String())

	private, groups := telegrambot.Menus()
	require.NotEmpty(t, private)
	require.NotEmpty(t, groups)
	for scope, want := range map[string][]telegrambot.MenuCommand{"all_private_chats": private, "all_group_chats": groups} {
		got := fake.Commands(scope)
		require.Len(t, got, len(want), scope)
		for i, c := range want {
			require.Equal(t, c.Command, got[i].Command, scope)
			require.Equal(t, c.Description, got[i].Description, scope)
		}
	}
	require.Contains(t, out.String(), "all_private_chats  /register")
	require.NotContains(t, out.String()+errOut.String(), botToken, "the token is never printed")

	// Without a token it says what to set and calls nothing.
	out.Reset()
	errOut.Reset()
	deps.TelegramBotToken = func() (string, bool, error) { return "", false, nil }
	code = adminapp.Run(context.Background(), deps, []string{"telegram", "menu"}, adminapp.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	require.Equal(t, adminapp.ExitError, code)
	require.Equal(t, "stockalert-admin: telegram menu: no bot token: set TELEGRAM_BOT_TOKEN (or the secret telegram-bot-token)\n", errOut.String())
}
