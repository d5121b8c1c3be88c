package trigger_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
	tg := telegramtest.NewServer(t, tgToken)
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
