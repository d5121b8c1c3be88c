package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

// TestProgramKeepsRunningThroughTelegramAndKafkaOutages runs the program three times on one data
// folder, as a user would: (1) with a token the Bot API refuses (401); (2) with no token, the one kept
// in data/secrets, which keeps the API URL it was used with rather than switching to api.telegram.org;
// (3) with that kept token, a Bot API and Kafka brokers that cannot be reached. Each time the program
// stays up, its status table says what Telegram (and Kafka) are doing and where the token came from,
// and Ctrl-C ends it cleanly.
func TestProgramKeepsRunningThroughTelegramAndKafkaOutages(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	tg := telegramtest.NewServer(t, "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
	const refusedToken = "987654321:AArefusedrefusedrefusedrefusedrefu"
	closed := httptest.NewServer(http.NotFoundHandler())
	nowhere := closed.URL
	closed.Close() // nothing listens there any more
	nowhereBroker := strings.TrimPrefix(nowhere, "http://")
	stackFile := filepath.Join("..", "..", "testdata", "stack.yml")
	dataDir := filepath.Join(t.TempDir(), "data")

	run := func(env ...string) (table string, p *program) {
		t.Helper()
		p = startProgram(t, stackFile, append([]string{"DATA_DIR=" + dataDir, "MYSQL_DSN=", "FUNCTION_LOGS=none",
			"TELEGRAM_WEBHOOK_SECRET="}, env...)...)
		p.data = dataDir
		p.waitReady(90 * time.Second)
		return p.stdout.String(), p
	}
	requireLine := func(table string, wants ...string) {
		t.Helper()
		for _, want := range wants {
			if !strings.Contains(table, want) {
				t.Errorf("status table lacks %q:\n%s", want, table)
			}
		}
	}
	staysUp := func(p *program, what string, cond func() bool) {
		t.Helper()
		p.waitFor(30*time.Second, what, cond) // fails if the program exits first
		if code := getStatus(t, p.gateway+"/healthz"); code != http.StatusOK {
			t.Errorf("gateway health = %d", code)
		}
		p.interrupt()
	}

	// 1. A token the Bot API refuses.
	table, p := run("KAFKA_BROKERS=", "TELEGRAM_BOT_TOKEN="+refusedToken, "TELEGRAM_API_URL="+tg.URL())
	requireLine(table, "telegram  refused by "+tg.URL()+": 401 Unauthorized", "retrying", "token from TELEGRAM_BOT_TOKEN")
	if strings.Contains(table, refusedToken) {
		t.Error("the status table shows the token")
	}
	staysUp(p, "getMe tried again", func() bool { return tg.Refused() >= 2 })

	// 2. No token given: the kept one, with the API URL it was used with.
	refusedBefore := tg.Refused()
	table, p = run("KAFKA_BROKERS=", "TELEGRAM_BOT_TOKEN=", "TELEGRAM_API_URL=")
	requireLine(table, "telegram  refused by "+tg.URL(), "kept from an earlier run in "+filepath.Join(dataDir, "secrets")+", with its API URL "+tg.URL())
	staysUp(p, "getMe tried again", func() bool { return tg.Refused() >= refusedBefore+2 })

	// 3. Neither the Bot API nor the brokers can be reached.
	table, p = run("KAFKA_BROKERS="+nowhereBroker, "TELEGRAM_BOT_TOKEN=", "TELEGRAM_API_URL="+nowhere)
	requireLine(table, "telegram  cannot reach "+nowhere, "retrying", "against "+tg.URL()+", now used with TELEGRAM_API_URL "+nowhere,
		"KAFKA_BROKERS "+nowhereBroker+" — unreachable")
	staysUp(p, "the Bot API tried again", func() bool {
		return strings.Count(p.stderr.String(), "telegram: cannot use the Bot API, retrying") >= 2
	})
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url) //nolint:noctx // a test's short call
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return res.StatusCode
}
