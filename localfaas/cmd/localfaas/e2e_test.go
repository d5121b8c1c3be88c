package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/auth"
	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/internal/lftest"

	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

const e2eBotToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// TestPipelineEndToEnd runs `make run` as a user would — the localfaas program on the repository's
// stack.yml, every function built and started as its own process — with a fake Yahoo Finance and a
// fake Telegram Bot API on loopback and a collector schedule of one second. A user registers through
// the gateway, links Telegram with /start <code> (long-polled and forwarded to telegram-bot), and the
// fake Telegram receives the alert for that chat. Then the notifier's process is killed: localfaas
// restarts it, and the next breach still reaches the chat.
//
// The broker is always the embedded one (the stack's topic names are fixed, and a shared real broker
// would replay other runs' events); the store is MySQL when MYSQL_DSN is set, SQLite otherwise.
func TestPipelineEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the whole pipeline")
	}
	yahoo := yahootest.NewServer(t)
	tg := telegramtest.NewServer(t, e2eBotToken)
	yahoo.SetQuote("AAPL", 150, "USD", time.Now().Add(-time.Minute))

	mysqlDSN := ""
	if os.Getenv("MYSQL_DSN") != "" {
		mysqlDSN = storetest.ScratchMySQL(t)
	}
	p := startProgram(t, filepath.Join("..", "..", "..", "stack.yml"),
		"KAFKA_BROKERS=", "MYSQL_DSN="+mysqlDSN, "FUNCTION_LOGS=notable",
		"COLLECTOR_SCHEDULE=@every 1s", "QUOTE_SOURCE=yahoo", "YAHOO_FINANCE_URL="+yahoo.URL(),
		"TELEGRAM_BOT_TOKEN="+e2eBotToken, "TELEGRAM_API_URL="+tg.URL(), "TELEGRAM_BOT_USERNAME=stockalert_test_bot",
		"TELEGRAM_WEBHOOK_SECRET=")
	gateway := p.gateway
	p.waitReady(3 * time.Minute)
	stdout := &p.stdout
	if !strings.Contains(stdout.String(), "telegram  long-polling") {
		t.Fatalf("the Telegram forwarder is not on:\n%s", stdout.String())
	}

	// Register through the gateway, as the README's example does.
	res := lftest.Call(t, http.MethodPost, gateway+"/function/user-commands/users", nil,
		`{"email":"e2e@example.com","ticker":"AAPL","high_value":100}`)
	var reg struct {
		Token, TelegramLinkCode, TelegramLink string
	}
	if res.Status != http.StatusCreated || json.Unmarshal([]byte(res.Body), &struct {
		Token            *string `json:"token"`
		TelegramLinkCode *string `json:"telegram_link_code"`
		TelegramLink     *string `json:"telegram_link"`
	}{&reg.Token, &reg.TelegramLinkCode, &reg.TelegramLink}) != nil || reg.TelegramLinkCode == "" {
		t.Fatalf("register: %d %s", res.Status, res.Body)
	}
	if reg.TelegramLink != "https://t.me/stockalert_test_bot?start="+reg.TelegramLinkCode {
		t.Errorf("telegram_link = %q", reg.TelegramLink)
	}

	// Link the chat the way a person does: /start <code> to the bot.
	const chat = 777001
	tg.PushText(chat, "/start "+reg.TelegramLinkCode)
	p.waitFor(time.Minute, "the bot's reply to /start", func() bool {
		return messageTo(tg, chat, "Linked to e2e@example.com") >= 1
	})

	// The collector prices AAPL at 150 > 100: the alert reaches the linked chat, once, however many
	// collector runs follow at the unchanged price.
	p.waitFor(time.Minute, "the alert", func() bool { return messageTo(tg, chat, "AAPL is above") >= 1 })
	waitForQuotes(p, yahoo, "AAPL", 2)
	if n := messageTo(tg, chat, "AAPL is above"); n != 1 {
		t.Fatalf("%d alerts for one breach, want 1", n)
	}

	// Kill the notifier: localfaas restarts it and the pipeline goes on.
	password := p.password()
	pid := functionPID(t, gateway, password, "alert-notifier")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.waitFor(time.Minute, "the notifier back", func() bool {
		newPID := functionPID(t, gateway, password, "alert-notifier")
		return newPID != pid && available(t, gateway, password, "alert-notifier") == 1
	})
	yahoo.SetQuote("AAPL", 90, "USD", time.Now()) // back in range: the subscription re-arms
	// The second request for AAPL from now on was sent after the new quote was set. The stack fans the
	// collection out: each run's one batch goes to the same partition of to-quote-collector (key 0),
	// so the batches are priced in turn, each publishing its price event before the next is priced,
	// and the 90 precedes the next price on the ticker's partition of to-alert-system.
	waitForQuotes(p, yahoo, "AAPL", 2)
	yahoo.SetQuote("AAPL", 170, "USD", time.Now()) // out again: a second alert
	p.waitFor(time.Minute, "the alert after the restart", func() bool { return messageTo(tg, chat, "AAPL is above") == 2 })

	// Ctrl-C stops everything cleanly.
	p.interrupt()
	if stray := messagesNotTo(tg, chat); stray != 0 {
		t.Errorf("%d messages went to another chat", stray)
	}
}

// waitForQuotes waits until Yahoo has been asked for ticker n more times.
func waitForQuotes(p *program, yahoo *yahootest.Server, ticker string, n int) {
	p.t.Helper()
	from := yahoo.Requests(ticker)
	p.waitFor(time.Minute, fmt.Sprintf("%d more quotes of %s", n, ticker), func() bool { return yahoo.Requests(ticker) >= from+n })
}

func messageTo(tg *telegramtest.Server, chat int64, containing string) int {
	n := 0
	for _, m := range tg.Messages() {
		if m.ChatID == chat && strings.Contains(m.Text, containing) {
			n++
		}
	}
	return n
}

func messagesNotTo(tg *telegramtest.Server, chat int64) int {
	n := 0
	for _, m := range tg.Messages() {
		if m.ChatID != chat {
			n++
		}
	}
	return n
}

var startedPID = regexp.MustCompile(`started \(pid (\d+)`)

// functionPID reads the newest "started (pid N)" line of the function's logs.
func functionPID(t *testing.T, gateway, password, name string) int {
	t.Helper()
	res := lftest.Call(t, http.MethodGet, gateway+"/system/logs?name="+name+"&tail=1000", &auth.BasicAuthCredentials{User: "admin", Password: password}, nil)
	pid := 0
	sc := bufio.NewScanner(strings.NewReader(res.Body))
	for sc.Scan() {
		var m struct{ Text string }
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			if g := startedPID.FindStringSubmatch(m.Text); g != nil {
				pid, _ = strconv.Atoi(g[1])
			}
		}
	}
	if pid == 0 {
		t.Fatalf("no start line in the logs of %s", name)
	}
	return pid
}

func available(t *testing.T, gateway, password, name string) uint64 {
	t.Helper()
	res := lftest.Call(t, http.MethodGet, gateway+"/system/function/"+name, &auth.BasicAuthCredentials{User: "admin", Password: password}, nil)
	return lftest.Decode[types.FunctionStatus](t, res).AvailableReplicas
}
