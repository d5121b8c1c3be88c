package trigger_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stockalert/stockalert/localfaas/internal/lftest"
	"github.com/stockalert/stockalert/localfaas/trigger"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

const tgToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// fakeGateway records the deliveries to /function/telegram-bot, answering with the statuses it is given
// (then 200).
type fakeGateway struct {
	mu       sync.Mutex
	statuses []int
	got      []delivery
}

type delivery struct {
	path, secret, contentType string
	update                    map[string]any
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var upd map[string]any
	if err := json.NewDecoder(r.Body).Decode(&upd); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.got = append(g.got, delivery{r.URL.Path, r.Header.Get(trigger.TelegramSecretHeader), r.Header.Get("Content-Type"), upd})
	status := http.StatusOK
	if len(g.statuses) > 0 {
		status, g.statuses = g.statuses[0], g.statuses[1:]
	}
	w.WriteHeader(status)
}

func (g *fakeGateway) deliveries() []delivery {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]delivery(nil), g.got...)
}

func runForwarder(t *testing.T, gw *fakeGateway) *telegramtest.Server {
	t.Helper()
	return runForwarderWith(t, gw, nil)
}

// runForwarderWith is runForwarder with before run on the fake Bot API first.
func runForwarderWith(t *testing.T, gw *fakeGateway, before func(*telegramtest.Server)) *telegramtest.Server {
	t.Helper()
	tg := telegramtest.NewServer(t, tgToken)
	if before != nil {
		before(tg)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	f, err := trigger.NewTelegramForwarder(trigger.TelegramConfig{
		Token: tgToken, APIURL: tg.URL(), Gateway: srv.URL, Function: "telegram-bot", Secret: "s3cret", Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return tg
}

func TestTelegramForwarderDeliversUpdatesAsAWebhookWould(t *testing.T) {
	t.Parallel()
	gw := &fakeGateway{}
	tg := runForwarder(t, gw)
	first := tg.PushText(42, "/start abc")
	second := tg.PushText(42, "/status")
	lftest.Eventually(t, 20*time.Second, "two deliveries", func() bool { return len(gw.deliveries()) == 2 })
	got := gw.deliveries()
	for i, want := range []int64{first, second} {
		d := got[i]
		if d.path != "/function/telegram-bot" || d.secret != "s3cret" || d.contentType != "application/json" {
			t.Errorf("delivery %d: %+v", i, d)
		}
		if id, _ := d.update["update_id"].(float64); int64(id) != want {
			t.Errorf("delivery %d has update_id %v, want %d (in order)", i, d.update["update_id"], want)
		}
		msg, _ := d.update["message"].(map[string]any)
		chat, _ := msg["chat"].(map[string]any)
		if chat["id"] != float64(42) {
			t.Errorf("delivery %d lost the chat: %v", i, d.update)
		}
	}
}

func TestTelegramForwarderRetriesFailuresAndDropsRefusals(t *testing.T) {
	t.Parallel()
	gw := &fakeGateway{statuses: []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusOK, http.StatusBadRequest}}
	tg := runForwarder(t, gw)
	a := tg.PushText(7, "/help")
	b := tg.PushText(7, "/stop")
	c := tg.PushText(7, "/resume")
	// a: 500, 502, then 200 (three deliveries); b: 400, dropped (one); c: 200 (one).
	lftest.Eventually(t, 20*time.Second, "five deliveries", func() bool { return len(gw.deliveries()) == 5 })
	var ids []int64
	for _, d := range gw.deliveries() {
		id, _ := d.update["update_id"].(float64)
		ids = append(ids, int64(id))
	}
	want := []int64{a, a, a, b, c}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("delivered update ids %v, want %v", ids, want)
		}
	}
}

// startForwarder runs a forwarder for token against apiURL (a fast retry) until the test ends, and
// fails the test if Run returns before that.
func startForwarder(t *testing.T, token, apiURL string, gw *fakeGateway) *trigger.TelegramForwarder {
	t.Helper()
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	f, err := trigger.NewTelegramForwarder(trigger.TelegramConfig{
		Token: token, APIURL: apiURL, Gateway: srv.URL, Function: "telegram-bot", Secret: "s3cret",
		Timeout: 2 * time.Second, RetryInitial: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-f.Tried():
	case err := <-done:
		t.Fatalf("Run returned %v before the first try", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no first try")
	}
	return f
}

// A Bot API that refuses the token (401) or cannot be reached does not end Run: the forwarder retries
// and its State says why, without the token.
func TestTelegramForwarderKeepsRunningWhenTheBotAPIRefusesOrIsUnreachable(t *testing.T) {
	t.Parallel()
	tg := telegramtest.NewServer(t, tgToken)
	const wrong = "987654321:AAwrongwrongwrongwrongwrongwrongwr"
	refused := startForwarder(t, wrong, tg.URL(), &fakeGateway{})
	lftest.Eventually(t, 10*time.Second, "a few refused getMe calls", func() bool { return tg.Refused() >= 3 })
	if st := refused.State(); !strings.Contains(st, "401 Unauthorized") || !strings.Contains(st, "retrying") || strings.Contains(st, wrong) {
		t.Errorf("state = %q", st)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close() // nothing listens there now
	unreachable := startForwarder(t, tgToken, url, &fakeGateway{})
	if st := unreachable.State(); !strings.Contains(st, "cannot reach "+url) || !strings.Contains(st, "retrying") || strings.Contains(st, tgToken) {
		t.Errorf("state = %q", st)
	}
}

// When the Bot API comes back, the forwarder polls and delivers, and State says so.
func TestTelegramForwarderRecoversWhenTheBotAPIComesBack(t *testing.T) {
	t.Parallel()
	tg := telegramtest.NewServer(t, tgToken)
	for range 3 {
		tg.FailNextHTTP("getMe", http.StatusBadGateway, "<html>502 Bad Gateway</html>")
	}
	gw := &fakeGateway{}
	f := startForwarder(t, tgToken, tg.URL(), gw)
	if st := f.State(); !strings.Contains(st, "retrying") {
		t.Errorf("state after a 502 = %q", st)
	}
	tg.PushText(42, "/help")
	lftest.Eventually(t, 10*time.Second, "the update delivered", func() bool { return len(gw.deliveries()) == 1 })
	if st := f.State(); !strings.HasPrefix(st, "long-polling "+tg.URL()) {
		t.Errorf("state = %q", st)
	}
}

// Telegram keeps the allowed_updates list a webhook set; the forwarder names its own, so button presses
// reach the bot even after a webhook that allowed only messages.
func TestTelegramForwarderAsksForButtonPresses(t *testing.T) {
	t.Parallel()
	gw := &fakeGateway{}
	tg := runForwarderWith(t, gw, func(tg *telegramtest.Server) {
		setWebhookThenDelete(t, tg, `["message"]`)
	})
	tg.PushUpdate(telegramtest.CallbackUpdate(42, 42, 7, "snooze:1"))
	tg.PushText(42, "/status")
	lftest.Eventually(t, 20*time.Second, "two deliveries", func() bool { return len(gw.deliveries()) == 2 })
	if _, ok := gw.deliveries()[0].update["callback_query"]; !ok {
		t.Errorf("the button press was not forwarded: %v", gw.deliveries()[0].update)
	}
}

// setWebhookThenDelete sets a webhook allowing only the updates in allowed (a JSON list), then deletes
// it, as a bot moved from OpenFaaS to make run would have: Telegram keeps the list.
func setWebhookThenDelete(t *testing.T, tg *telegramtest.Server, allowed string) {
	t.Helper()
	for _, call := range []struct{ method, body string }{
		{"setWebhook", `{"url":"https://example.com/hook","allowed_updates":` + allowed + `}`},
		{"deleteWebhook", `{}`},
	} {
		res, err := http.Post(tg.URL()+"/bot"+tgToken+"/"+call.method, "application/json", strings.NewReader(call.body))
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", call.method, res.StatusCode)
		}
	}
}
