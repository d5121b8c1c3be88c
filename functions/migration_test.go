package functions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/functions/telegram-bot/telegrambotapp"
	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

// TestGroupMigrationAcrossFunctions: a group linked with /start is upgraded to a supergroup. Telegram
// tells the bot (the service message in the new supergroup reaches telegram-bot's webhook); the
// shipped telegram-bot moves the link, and the shipped alert-notifier then sends the next alert
// straight to the supergroup, once — no call to the dead group, no message about the move.
func TestGroupMigrationAcrossFunctions(t *testing.T) {
	t.Parallel()
	tg := telegramtest.NewServer(t, botToken)
	const webhookSecret = "migration-test-secret"
	shared := faastest.StoreEnv(t)
	with := func(env map[string]string) map[string]string {
		all := maps.Clone(shared)
		maps.Copy(all, env)
		all["TELEGRAM_API_URL"] = tg.URL()
		return all
	}
	secrets := map[string]string{"telegram-bot-token": botToken, "telegram-webhook-secret": webhookSecret}
	// The simulated source knows every symbol: registrations are checked without the network.
	userCommands := faastest.Start(t, usercommandsapp.Name, usercommandsapp.Wire, nil, with(map[string]string{"QUOTE_SOURCE": "simulated"}))
	bot := faastest.Run(t, telegrambotapp.Name, telegrambotapp.Wire, faastest.Env(t, secrets, with(nil)))
	notifier := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire, faastest.Env(t, secrets, with(nil)))

	status, body := faastest.Call(t, http.MethodPost, userCommands+"/users", `{"email":"mig@example.com","ticker":"AAPL","high_value":100}`, nil)
	require.Equal(t, http.StatusCreated, status, body)
	var reg struct {
		Code string `json:"telegram_link_code"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &reg))

	webhook := func(update []byte) {
		t.Helper()
		// As Telegram delivers to a webhook.
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, bot+"/", bytes.NewReader(update))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
	const group, supergroup = int64(-4301), int64(-1004301004301)
	tg.SetChatMember(group, 7000001, "administrator") // the sender of telegramtest's group updates
	webhook(telegramtest.Update(group, "/start "+reg.Code))
	require.Len(t, tg.Messages(), 1, "the reply to /start")

	tg.MigrateChat(group, supergroup)
	webhook(telegramtest.MigrateFromUpdate(supergroup, group))
	require.Len(t, tg.Messages(), 1, "moving the link says nothing")

	alert, _ := json.Marshal(stockalert.AlertEvent{EventID: "mig-1", Email: "mig@example.com", Ticker: "AAPL",
		Condition: stockalert.Above, Price: 150, Currency: "USD", Threshold: 100, Time: time.Now()})
	status, _ = faastest.Call(t, http.MethodPost, notifier+"/", string(alert), nil)
	require.Equal(t, http.StatusNoContent, status)
	msgs := tg.Messages()
	require.Len(t, msgs, 2)
	require.Equal(t, supergroup, msgs[1].ChatID)
	require.True(t, strings.Contains(msgs[1].Text, "AAPL is above"), msgs[1].Text)
	require.Equal(t, 2, tg.Calls("sendMessage"), "no call to the dead group")
}
