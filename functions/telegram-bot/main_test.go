package main

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/telegram-bot/telegrambotapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/edge/telegrambot"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

const (
	testToken  = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	testSecret = "function-test-secret"
)

// functionEnv is the function's environment: a fresh store, secrets in a temporary folder and the
// fake Bot API, then extra.
func functionEnv(t *testing.T, secrets map[string]string, apiURL string, extra map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{"TELEGRAM_API_URL": apiURL, "TELEGRAM_BOT_USERNAME": telegramtest.BotUsername}
	maps.Copy(env, extra)
	return faastest.Env(t, secrets, env)
}

// run starts the function as main does, waits until it is healthy and returns its base URL.
func run(t *testing.T, env map[string]string) string {
	t.Helper()
	return faastest.Run(t, telegrambotapp.Name, telegrambotapp.Wire, env)
}

// post delivers a text message from chat 42 as Telegram would and returns the status.
func post(t *testing.T, base, text, secret string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/", bytes.NewReader(telegramtest.Update(42, text)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(telegrambot.SecretTokenHeader, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestFunctionServesTheWebhook(t *testing.T) {
	t.Parallel()
	fake := telegramtest.NewServer(t, testToken)
	base := run(t, functionEnv(t, map[string]string{telegrambotapp.BotTokenSecret: testToken, telegrambotapp.WebhookSecretSecret: testSecret}, fake.URL(), nil))

	require.Equal(t, http.StatusUnauthorized, post(t, base, "/help", "wrong"))
	require.Empty(t, fake.Messages())

	require.Equal(t, http.StatusOK, post(t, base, "/help", testSecret))
	require.Equal(t, http.StatusOK, post(t, base, "/status", testSecret), "the store answers")
	msgs := fake.Messages()
	require.Len(t, msgs, 2)
	require.Contains(t, msgs[0].Text, "/set <seconds>")
	require.Contains(t, msgs[1].Text, "not linked to an account")

	resp, err := http.Get(base + faas.MetricsPath)
	require.NoError(t, err)
	defer resp.Body.Close()
	metrics, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(metrics), `stockalert_usecase_duration_seconds_count{kind="query",name="ChatProfile",outcome="rejected"} 1`)
	require.Contains(t, string(metrics), `faas_http_requests_total{code="401",function="telegram-bot",method="post",route="webhook"} 1`)

	// At start the function set the bot's "/" menus to its commands.
	require.Eventually(t, func() bool {
		return len(fake.Commands("all_private_chats")) > 0 && len(fake.Commands("all_group_chats")) > 0
	}, 10*time.Second, 20*time.Millisecond)
	var names []string
	for _, c := range fake.Commands("all_private_chats") {
		names = append(names, c.Command)
	}
	require.Subset(t, names, []string{"start", "status", "set", "stop", "resume", "help"})
}

func TestFunctionRefusesToStartWithoutItsSecrets(t *testing.T) {
	t.Parallel()
	fake := telegramtest.NewServer(t, testToken)
	for name, c := range map[string]struct {
		secrets map[string]string
		env     map[string]string
		want    string
	}{
		"no webhook secret": {map[string]string{telegrambotapp.BotTokenSecret: testToken}, nil, "no webhook secret"},
		"malformed token":   {map[string]string{telegrambotapp.BotTokenSecret: "nope", telegrambotapp.WebhookSecretSecret: testSecret}, nil, "token is malformed"},
		"bad username": {map[string]string{telegrambotapp.BotTokenSecret: testToken, telegrambotapp.WebhookSecretSecret: testSecret},
			map[string]string{"TELEGRAM_BOT_USERNAME": "not a name"}, "bot username"},
	} {
		t.Run(name, func(t *testing.T) {
			env := functionEnv(t, c.secrets, fake.URL(), c.env)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := faas.RunEnv(ctx, telegrambotapp.Name, telegrambotapp.Wire, env)
			require.ErrorContains(t, err, c.want)
			require.NotContains(t, err.Error(), testToken)
		})
	}
}

func TestFunctionWithoutATokenStaysOff(t *testing.T) {
	t.Parallel()
	fake := telegramtest.NewServer(t, testToken)
	base := run(t, functionEnv(t, map[string]string{telegrambotapp.WebhookSecretSecret: testSecret}, fake.URL(), nil))
	resp, err := http.Get(base + faas.HealthPath)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "healthy: the rest of the pipeline runs")
	require.Equal(t, http.StatusServiceUnavailable, post(t, base, "/help", testSecret))
	require.Empty(t, fake.Messages())
}

func TestFunctionRunsWithoutSecretOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	fake := telegramtest.NewServer(t, testToken)
	base := run(t, functionEnv(t, map[string]string{telegrambotapp.BotTokenSecret: testToken}, fake.URL(),
		map[string]string{"TELEGRAM_WEBHOOK_ALLOW_NO_SECRET": "true"}))
	require.Equal(t, http.StatusOK, post(t, base, "/help", ""))
	require.Len(t, fake.Messages(), 1)
}

// /register checks a new symbol against the quote source as POST /users does: one unknown to Yahoo is
// refused in plain words and registers nothing.
func TestFunctionRegistersFromTheChatCheckingTheSymbol(t *testing.T) {
	t.Parallel()
	fake := telegramtest.NewServer(t, testToken)
	quotes := yahootest.NewServer(t)
	quotes.SetQuote("AAPL", 190, "USD", time.Now())
	env := functionEnv(t, map[string]string{telegrambotapp.BotTokenSecret: testToken, telegrambotapp.WebhookSecretSecret: testSecret},
		fake.URL(), map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL()})
	base := run(t, env)

	require.Equal(t, http.StatusOK, post(t, base, "/register ann@example.com NOSUCHSYM", testSecret))
	require.Equal(t, http.StatusOK, post(t, base, "/register ann@example.com AAPL", testSecret))
	msgs := fake.Messages()
	require.Len(t, msgs, 2)
	require.Equal(t, "That did not work: NOSUCHSYM is not a symbol the quote source knows. Send /help for the commands.", msgs[0].Text)
	require.True(t, strings.HasPrefix(msgs[1].Text, "Registered ann@example.com: its alerts will come to this chat. You watch AAPL"), msgs[1].Text)
	require.Equal(t, 1, quotes.Requests("NOSUCHSYM"))
	require.Equal(t, 1, storetest.Count(t, faastest.Store(t, env).DB(), "users", ""))
}
