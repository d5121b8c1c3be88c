package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/telegram"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

const (
	testToken  = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	testSecret = "function-test-secret"
)

// setEnv points the function at a fresh store, secrets in a temporary folder and the fake Bot API,
// and returns its base URL.
func setEnv(t *testing.T, secrets map[string]string, apiURL string) string {
	t.Helper()
	dir := t.TempDir()
	for name, value := range secrets {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(value+"\n"), 0o600))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())

	t.Setenv("port", strconv.Itoa(port))
	t.Setenv("bind", "127.0.0.1")
	t.Setenv("secret_mount_path", dir)
	t.Setenv("log_format", "text")
	t.Setenv("log_level", "error")
	t.Setenv("SQLITE_PATH", filepath.Join(dir, "stockalert.db"))
	if os.Getenv("MYSQL_DSN") != "" {
		t.Setenv("MYSQL_DSN", storetest.ScratchMySQL(t))
	}
	t.Setenv(botTokenEnv, "")
	t.Setenv(webhookSecretEnv, "")
	t.Setenv("TELEGRAM_API_URL", apiURL)
	t.Setenv("TELEGRAM_BOT_USERNAME", telegramtest.BotUsername)
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

// run starts the function with faas.Run, as main does, waits until base answers /_/health with 200,
// and stops it when the test ends.
func run(t *testing.T, base string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- faas.Run(ctx, "telegram-bot", wire) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("the function did not stop")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + faas.HealthPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-done:
			t.Fatalf("the function stopped: %v", err)
		default:
		}
		require.True(t, time.Now().Before(deadline), "not healthy in time: %v", err)
		time.Sleep(50 * time.Millisecond)
	}
}

// post delivers a text message from chat 42 as Telegram would and returns the status.
func post(t *testing.T, base, text, secret string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/", bytes.NewReader(telegramtest.Update(42, text)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(telegram.SecretTokenHeader, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestFunctionServesTheWebhook(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	base := setEnv(t, map[string]string{botTokenSecret: testToken, webhookSecretSecret: testSecret}, fake.URL())

	run(t, base)

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
	require.Contains(t, string(metrics), `faas_http_requests_total{function="telegram-bot",method="POST",route="webhook",status="401"} 1`)
}

func TestFunctionRefusesToStartWithoutItsSecrets(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	for name, c := range map[string]struct {
		secrets map[string]string
		env     map[string]string
		want    string
	}{
		"no webhook secret": {map[string]string{botTokenSecret: testToken}, nil, "no webhook secret"},
		"malformed token":   {map[string]string{botTokenSecret: "nope", webhookSecretSecret: testSecret}, nil, "token is malformed"},
		"bad username": {map[string]string{botTokenSecret: testToken, webhookSecretSecret: testSecret},
			map[string]string{"TELEGRAM_BOT_USERNAME": "not a name"}, "bot username"},
	} {
		t.Run(name, func(t *testing.T) {
			setEnv(t, c.secrets, fake.URL())
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := faas.Run(ctx, "telegram-bot", wire)
			require.ErrorContains(t, err, c.want)
			require.NotContains(t, err.Error(), testToken)
		})
	}
}

func TestFunctionWithoutATokenStaysOff(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	base := setEnv(t, map[string]string{webhookSecretSecret: testSecret}, fake.URL())
	run(t, base)
	resp, err := http.Get(base + faas.HealthPath)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "healthy: the rest of the pipeline runs")
	require.Equal(t, http.StatusServiceUnavailable, post(t, base, "/help", testSecret))
	require.Empty(t, fake.Messages())
}

func TestFunctionRunsWithoutSecretOnlyWhenAllowed(t *testing.T) {
	fake := telegramtest.NewServer(t, testToken)
	base := setEnv(t, map[string]string{botTokenSecret: testToken}, fake.URL())
	t.Setenv("TELEGRAM_WEBHOOK_ALLOW_NO_SECRET", "true")
	run(t, base)
	require.Equal(t, http.StatusOK, post(t, base, "/help", ""))
	require.Len(t, fake.Messages(), 1)
}
