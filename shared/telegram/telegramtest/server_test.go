package telegramtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

type apiAnswer struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// call posts params to method as JSON, form or query, and decodes the answer.
func call(t *testing.T, s *telegramtest.Server, method, encoding string, params map[string]string) (int, apiAnswer) {
	t.Helper()
	u := s.URL() + "/bot" + token + "/" + method
	var resp *http.Response
	var err error
	switch encoding {
	case "json":
		b, _ := json.Marshal(params)
		resp, err = http.Post(u, "application/json", strings.NewReader(string(b)))
	case "form":
		v := url.Values{}
		for k, x := range params {
			v.Set(k, x)
		}
		resp, err = http.PostForm(u, v)
	case "query":
		v := url.Values{}
		for k, x := range params {
			v.Set(k, x)
		}
		resp, err = http.Get(u + "?" + v.Encode())
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var a apiAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("%s answered %d %q: %v", method, resp.StatusCode, body, err)
	}
	if a.OK != (resp.StatusCode == 200) || (!a.OK && a.ErrorCode != resp.StatusCode) {
		t.Errorf("%s: HTTP %d with ok=%v error_code=%d", method, resp.StatusCode, a.OK, a.ErrorCode)
	}
	return resp.StatusCode, a
}

func newBot(t *testing.T, s *telegramtest.Server, opts ...bot.Option) *bot.Bot {
	t.Helper()
	opts = append([]bot.Option{bot.WithServerURL(s.URL()), bot.WithErrorsHandler(func(error) {})}, opts...)
	b, err := bot.New(token, opts...)
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return b
}

func TestGetMeAndTokenCheck(t *testing.T) {
	t.Parallel()
	s := telegramtest.NewServer(t, token)
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %s is not on loopback", s.URL())
	}
	b := newBot(t, s) // bot.New calls getMe
	me, err := b.GetMe(context.Background())
	if err != nil || me.ID != 123456789 || !me.IsBot || me.Username != telegramtest.BotUsername || s.BotID() != 123456789 {
		t.Fatalf("getMe = %+v, %v", me, err)
	}
	if s.Calls("getMe") != 2 {
		t.Errorf("getMe calls = %d, want 2", s.Calls("getMe"))
	}

	_, err = bot.New("123456789:wrong", bot.WithServerURL(s.URL()))
	if !errors.Is(err, bot.ErrorUnauthorized) {
		t.Errorf("wrong token: err = %v, want Unauthorized", err)
	}
	if n := s.Calls(""); n != 2 {
		t.Errorf("calls with a wrong token were counted: %d", n)
	}

	status, a := call(t, s, "noSuchMethod", "json", nil)
	if status != 404 || a.Description != "Not Found" {
		t.Errorf("unknown method: %d %+v", status, a)
	}
	resp, err := http.Get(s.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET / = %d", resp.StatusCode)
	}
}

func TestSendMessageInEveryEncoding(t *testing.T) {
	t.Parallel()
	s := telegramtest.NewServer(t, token)
	for i, enc := range []string{"json", "form", "query"} {
		status, a := call(t, s, "sendMessage", enc, map[string]string{"chat_id": "42", "text": "hello " + enc})
		if status != 200 {
			t.Fatalf("%s: %d %+v", enc, status, a)
		}
		var m models.Message
		if err := json.Unmarshal(a.Result, &m); err != nil {
			t.Fatal(err)
		}
		if m.ID != i+1 || m.Chat.ID != 42 || m.Chat.Type != "private" || m.Text != "hello "+enc || m.From == nil || m.From.ID != s.BotID() || m.Date == 0 {
			t.Errorf("%s: message %+v", enc, m)
		}
	}
	// And multipart, through the library.
	b := newBot(t, s, bot.WithSkipGetMe())
	m, err := b.SendMessage(context.Background(), &bot.SendMessageParams{
		ChatID: int64(-1001234567890), Text: "*bold* BRK\\-B", ParseMode: models.ParseModeMarkdown,
		ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "ok", CallbackData: "ok"}}}},
	})
	if err != nil || m.Chat.ID != -1001234567890 || m.Chat.Type != "group" {
		t.Fatalf("SendMessage = %+v, %v", m, err)
	}
	msgs := s.Messages()
	if len(msgs) != 4 {
		t.Fatalf("recorded %d messages", len(msgs))
	}
	last := msgs[3]
	if last.ChatID != -1001234567890 || last.Text != "*bold* BRK\\-B" || last.ParseMode != "MarkdownV2" || !strings.Contains(last.ReplyMarkup, `"callback_data":"ok"`) {
		t.Errorf("recorded %+v", last)
	}
}

func TestSendMessageValidation(t *testing.T) {
	t.Parallel()
	s := telegramtest.NewServer(t, token)
	cases := []struct {
		params map[string]string
		desc   string
	}{
		{map[string]string{"text": "x"}, "Bad Request: chat_id is empty"},
		{map[string]string{"chat_id": "@nobody", "text": "x"}, "Bad Request: chat not found"},
		{map[string]string{"chat_id": "42", "text": " "}, "Bad Request: message text is empty"},
		{map[string]string{"chat_id": "42", "text": strings.Repeat("x", 4097)}, "Bad Request: message is too long"},
		{map[string]string{"chat_id": "42", "text": "x", "parse_mode": "RTF"}, "Bad Request: unsupported parse_mode"},
		{map[string]string{"chat_id": "42", "text": "BRK-B", "parse_mode": "MarkdownV2"}, "Bad Request: can't parse entities: Character '-' is reserved and must be escaped with the preceding '\\'"},
		{map[string]string{"chat_id": "42", "text": "price 1.5", "parse_mode": "MarkdownV2"}, "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'"},
		{map[string]string{"chat_id": "42", "text": "(x)", "parse_mode": "MarkdownV2"}, "Bad Request: can't parse entities: Character '(' is reserved and must be escaped with the preceding '\\'"},
		{map[string]string{"chat_id": "42", "text": "`open", "parse_mode": "MarkdownV2"}, "Bad Request: can't parse entities: can't find end of Code entity"},
	}
	for _, tc := range cases {
		status, a := call(t, s, "sendMessage", "json", tc.params)
		if status != 400 || a.Description != tc.desc {
			t.Errorf("%v: %d %q, want 400 %q", tc.params, status, a.Description, tc.desc)
		}
	}
	for _, ok := range []string{
		`*BRK\-B* is above 480\.00 USD`,
		"`code with - and . inside` and ```\npre {x} = 1.0\n```",
		`[chart](https://finance.yahoo.com/quote/BRK-B?x=1.0) \^GSPC`,
		`_it_ __u__ ~s~ ||sp|| >quote`,
	} {
		if status, a := call(t, s, "sendMessage", "json", map[string]string{"chat_id": "42", "text": ok, "parse_mode": "MarkdownV2"}); status != 200 {
			t.Errorf("%q: %d %s", ok, status, a.Description)
		}
	}
	if n := len(s.Messages()); n != 4 {
		t.Errorf("recorded %d messages, want the 4 valid ones", n)
	}
}

func TestInjectedFailures(t *testing.T) {
	t.Parallel()
	s := telegramtest.NewServer(t, token)
	s.FailNext("sendMessage", 429, "", 5)
	s.FailNext("", 500, "Internal Server Error", 0)
	s.RejectChat(7, 403, telegramtest.DescBlocked)
	s.MigrateChat(-100, -1000000000100)

	// getMe is not sendMessage: it takes the any-method failure.
	if status, a := call(t, s, "getMe", "json", nil); status != 500 || a.Description != "Internal Server Error" {
		t.Errorf("getMe: %d %+v", status, a)
	}
	status, a := call(t, s, "sendMessage", "json", map[string]string{"chat_id": "42", "text": "x"})
	if status != 429 || a.Description != "Too Many Requests: retry after 5" || a.Parameters.RetryAfter != 5 {
		t.Errorf("429: %d %+v", status, a)
	}
	if status, _ := call(t, s, "sendMessage", "json", map[string]string{"chat_id": "42", "text": "x"}); status != 200 {
		t.Errorf("after the injected failures: %d", status)
	}
	for i := 0; i < 2; i++ {
		if status, a := call(t, s, "sendMessage", "json", map[string]string{"chat_id": "7", "text": "x"}); status != 403 || a.Description != telegramtest.DescBlocked {
			t.Errorf("blocked chat, try %d: %d %+v", i, status, a)
		}
	}
	if status, a := call(t, s, "sendMessage", "json", map[string]string{"chat_id": "-100", "text": "x"}); status != 400 || a.Parameters.MigrateToChatID != -1000000000100 {
		t.Errorf("migrated chat: %d %+v", status, a)
	}
	s.RejectChat(7, 0, "")
	if status, _ := call(t, s, "sendMessage", "json", map[string]string{"chat_id": "7", "text": "x"}); status != 200 {
		t.Errorf("unblocked chat: %d", status)
	}

	s.FailNextHTTP("getMe", 502, "<html>502 Bad Gateway</html>")
	resp, err := http.Get(s.URL() + "/bot" + token + "/getMe")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 || string(body) != "<html>502 Bad Gateway</html>" {
		t.Errorf("raw failure: %d %q", resp.StatusCode, body)
	}

	s.StallNext("getMe")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/bot"+token+"/getMe", nil)
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		res.Body.Close()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("stalled call: err = %v", err)
	}
	if status, _ := call(t, s, "getMe", "json", nil); status != 200 {
		t.Errorf("after the stall: %d", status)
	}
}

func updatesOf(t *testing.T, a apiAnswer) []models.Update {
	t.Helper()
	var us []models.Update
	if err := json.Unmarshal(a.Result, &us); err != nil || us == nil {
		t.Fatalf("result %s: %v", a.Result, err)
	}
	return us
}

func TestGetUpdatesOffsetAndLimit(t *testing.T) {
	t.Parallel()
	s := telegramtest.NewServer(t, token)
	_, a := call(t, s, "getUpdates", "json", nil)
	if string(a.Result) != "[]" {
		t.Fatalf("empty queue answered %s, want []", a.Result)
	}
	id1 := s.PushText(42, "one")
	id2 := s.PushText(42, "two")
	id3 := s.PushText(-42, "three")
	if id2 != id1+1 || id3 != id2+1 {
		t.Fatalf("ids %d %d %d not consecutive", id1, id2, id3)
	}

	us := updatesOf(t, second(call(t, s, "getUpdates", "form", map[string]string{"limit": "2"})))
	if len(us) != 2 || us[0].ID != id1 || us[0].Message.Text != "one" || us[1].Message.Text != "two" {
		t.Fatalf("limit 2: %+v", us)
	}
	// Without an offset nothing is confirmed.
	if s.Pending() != 3 {
		t.Errorf("pending = %d, want 3", s.Pending())
	}
	us = updatesOf(t, second(call(t, s, "getUpdates", "json", map[string]string{"offset": strconv.FormatInt(id2, 10)})))
	if len(us) != 2 || us[0].ID != id2 || us[1].Message.Chat.Type != "group" {
		t.Fatalf("offset id2: %+v", us)
	}
	if s.Pending() != 2 {
		t.Errorf("pending = %d, want 2 after confirming id1", s.Pending())
	}
	us = updatesOf(t, second(call(t, s, "getUpdates", "query", map[string]string{"offset": "-1"})))
	if len(us) != 1 || us[0].ID != id3 || s.Pending() != 1 {
		t.Fatalf("offset -1: %+v, pending %d", us, s.Pending())
	}
	us = updatesOf(t, second(call(t, s, "getUpdates", "json", map[string]string{"offset": strconv.FormatInt(id3+1, 10)})))
	if len(us) != 0 || s.Pending() != 0 {
		t.Fatalf("offset past the end: %+v, pending %d", us, s.Pending())
	}
	if status, a := call(t, s, "getUpdates", "json", map[string]string{"offset": "x"}); status != 400 {
		t.Errorf("bad offset: %d %+v", status, a)
	}
}

func second[A, B any](_ A, b B) B { return b }

func TestLongPoll(t *testing.T) {
	t.Parallel()
	s := telegramtest.NewServer(t, token)
	got := make(chan apiAnswer, 1)
	go func() {
		_, a := call(t, s, "getUpdates", "json", map[string]string{"timeout": "30"})
		got <- a
	}()
	require.Eventually(t, func() bool { return s.Calls("getUpdates") == 1 }, 10*time.Second, 5*time.Millisecond)
	// The poll is in; had it been answered before the update below, its answer would lack the update.
	id := s.PushText(42, "wake up")
	select {
	case a := <-got:
		us := updatesOf(t, a)
		if len(us) != 1 || us[0].ID != id {
			t.Fatalf("long poll got %+v, want the update pushed while it waited", us)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long poll not answered after an update")
	}

	// A long poll with nothing to say answers [] when its timeout ends.
	_, a := call(t, s, "getUpdates", "json", map[string]string{"offset": strconv.FormatInt(id+1, 10), "timeout": "1"})
	if string(a.Result) != "[]" {
		t.Errorf("timed-out poll: %s", a.Result)
	}
}

func TestSecondPollerTerminatesTheFirst(t *testing.T) {
	t.Parallel()
	s := telegramtest.NewServer(t, token)
	first := make(chan int, 1)
	go func() {
		status, _ := call(t, s, "getUpdates", "json", map[string]string{"timeout": "30"})
		first <- status
	}()
	require.Eventually(t, func() bool { return s.Calls("getUpdates") == 1 }, 10*time.Second, 5*time.Millisecond)
	second := make(chan int, 1)
	go func() {
		status, _ := call(t, s, "getUpdates", "json", map[string]string{"timeout": "30"})
		second <- status
	}()
	select {
	case status := <-first:
		if status != 409 {
			t.Errorf("first poller got %d, want 409", status)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("first poller not terminated")
	}
	s.PushText(1, "x")
	if status := <-second; status != 200 {
		t.Errorf("second poller got %d", status)
	}
}

func TestCloseAnswersWaitingPolls(t *testing.T) {
	t.Parallel()
	s := telegramtest.NewServer(t, token)
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Post(s.URL()+"/bot"+token+"/getUpdates?timeout=50", "application/json", nil)
		if err == nil {
			resp.Body.Close()
		}
	}()
	require.Eventually(t, func() bool { return s.Calls("getUpdates") == 1 }, 10*time.Second, 5*time.Millisecond)
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked on a long poll")
	}
	<-done
}

// bot.Start long-polls the fake and dispatches a pushed command to its handler: the wire format,
// offsets and bot_command entities all work for a real client.
func TestBotStartReceivesPushedCommands(t *testing.T) {
	t.Parallel()
	s := telegramtest.NewServer(t, token)
	type seen struct {
		chat int64
		text string
	}
	got := make(chan seen, 10)
	b := newBot(t, s, bot.WithSkipGetMe(), bot.WithDefaultHandler(func(context.Context, *bot.Bot, *models.Update) {}))
	b.RegisterHandler(bot.HandlerTypeMessageText, "set", bot.MatchTypeCommand, func(ctx context.Context, b *bot.Bot, u *models.Update) {
		got <- seen{u.Message.Chat.ID, u.Message.Text}
		_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "ok"})
	})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { b.Start(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()

	s.PushText(42, "hello")
	s.PushText(42, "/set 60")
	// go-telegram's MatchTypeCommand compares the whole entity, so "/set@bot" (what Telegram sends in
	// groups) would not match "set": that is the library's behaviour, not the fake's.
	s.PushText(-43, "/set 120")
	want := map[seen]bool{{42, "/set 60"}: true, {-43, "/set 120"}: true} // handlers run concurrently
	for len(want) > 0 {
		select {
		case g := <-got:
			if !want[g] {
				t.Errorf("handler saw %+v, want one of %v", g, want)
			}
			delete(want, g)
		case <-time.After(10 * time.Second):
			t.Fatalf("handler never saw %v", want)
		}
	}
	ctxWait, cancelWait := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelWait()
	msgs, err := s.WaitMessages(ctxWait, 2)
	if err != nil || len(msgs) != 2 || msgs[0].Text != "ok" {
		t.Fatalf("replies %+v, %v", msgs, err)
	}
	// The bot confirms what it received on its next poll.
	require.Eventually(t, func() bool { return s.Pending() == 0 }, 10*time.Second, 5*time.Millisecond)
}

func TestWebhookLifecycle(t *testing.T) {
	t.Parallel()
	s := telegramtest.NewServer(t, token)
	b := newBot(t, s, bot.WithSkipGetMe())
	ctx := context.Background()

	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: "http://example.test/hook"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("http webhook: err = %v, want Bad Request", err)
	}
	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: "https://example.test/hook", SecretToken: "has space"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("bad secret: err = %v, want Bad Request", err)
	}
	ok, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: "https://example.test/function/telegram-bot", SecretToken: "s3cr3t_-X", AllowedUpdates: []string{"message"}})
	if err != nil || !ok {
		t.Fatalf("SetWebhook = %v, %v", ok, err)
	}
	w := s.Webhook()
	if w.URL != "https://example.test/function/telegram-bot" || w.SecretToken != "s3cr3t_-X" || len(w.AllowedUpdates) != 1 || w.AllowedUpdates[0] != "message" {
		t.Errorf("recorded %+v", w)
	}
	s.PushText(42, "queued")
	info, err := b.GetWebhookInfo(ctx)
	if err != nil || info.URL != w.URL || info.PendingUpdateCount != 1 || info.MaxConnections != 40 {
		t.Errorf("GetWebhookInfo = %+v, %v", info, err)
	}
	if status, a := call(t, s, "getUpdates", "json", nil); status != 409 || !strings.Contains(a.Description, "webhook is active") {
		t.Errorf("getUpdates with a webhook: %d %+v", status, a)
	}
	if ok, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{DropPendingUpdates: true}); err != nil || !ok {
		t.Fatalf("DeleteWebhook = %v, %v", ok, err)
	}
	if w := s.Webhook(); w.URL != "" || s.Pending() != 0 {
		t.Errorf("after delete: %+v, pending %d", w, s.Pending())
	}
	_, a := call(t, s, "deleteWebhook", "json", nil)
	if a.Description != "Webhook is already deleted" {
		t.Errorf("second delete: %+v", a)
	}
}

// Update and NewWebhookRequest build deliveries that go-telegram's webhook handler accepts.
func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []*models.Update
	b, err := bot.New(token, bot.WithSkipGetMe(), bot.WithWebhookSecretToken("s3cr3t"), bot.WithErrorsHandler(func(error) {}),
		bot.WithDefaultHandler(func(_ context.Context, _ *bot.Bot, u *models.Update) {
			mu.Lock()
			got = append(got, u)
			mu.Unlock()
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { b.StartWebhook(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()

	upd := telegramtest.Update(42, "/start abc")
	r := telegramtest.NewWebhookRequest("/function/telegram-bot", upd, "s3cr3t")
	if r.Header.Get("X-Telegram-Bot-Api-Secret-Token") != "s3cr3t" || r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost {
		t.Fatalf("request %s %v", r.Method, r.Header)
	}
	b.WebhookHandler().ServeHTTP(httptest.NewRecorder(), r)
	b.WebhookHandler().ServeHTTP(httptest.NewRecorder(), telegramtest.NewWebhookRequest("/", telegramtest.Update(42, "forged"), "wrong"))
	b.WebhookHandler().ServeHTTP(httptest.NewRecorder(), telegramtest.NewWebhookRequest("/", telegramtest.Update(-1001234567890, "in a supergroup"), "s3cr3t"))
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 }, 10*time.Second, 5*time.Millisecond)

	mu.Lock()
	defer mu.Unlock()
	var private, group *models.Update
	for _, u := range got {
		if u.Message.Chat.ID == 42 {
			private = u
		} else {
			group = u
		}
	}
	if private == nil || group == nil {
		t.Fatalf("got %+v", got)
	}
	m := private.Message
	if m.Text != "/start abc" || m.Chat.Type != "private" || m.From.ID != 42 || m.Date == 0 || len(m.Entities) != 1 ||
		m.Entities[0].Type != models.MessageEntityTypeBotCommand || m.Entities[0].Offset != 0 || m.Entities[0].Length != 6 {
		t.Errorf("private update %+v, entities %+v", m, m.Entities)
	}
	if group.Message.Chat.Type != "supergroup" || group.Message.From.ID == group.Message.Chat.ID {
		t.Errorf("group update %+v", group.Message)
	}
	if private.ID == group.ID {
		t.Error("two updates share an update_id")
	}
}

func TestCommandEntitiesCountUTF16(t *testing.T) {
	t.Parallel()
	var u models.Update
	if err := json.Unmarshal(telegramtest.Update(1, "😀 try /set 5"), &u); err != nil {
		t.Fatal(err)
	}
	// 😀 is two UTF-16 units: "😀 try " is 7 units.
	if e := u.Message.Entities; len(e) != 1 || e[0].Offset != 7 || e[0].Length != 4 {
		t.Errorf("entities %+v", e)
	}
	var plain models.Update
	if err := json.Unmarshal(telegramtest.Update(1, "no command / here"), &plain); err != nil || len(plain.Message.Entities) != 0 {
		t.Errorf("entities %+v, %v", plain.Message.Entities, err)
	}
	var addressed models.Update
	if err := json.Unmarshal(telegramtest.Update(-5, "/set@"+telegramtest.BotUsername+" 60"), &addressed); err != nil {
		t.Fatal(err)
	}
	if e := addressed.Message.Entities; len(e) != 1 || e[0].Offset != 0 || e[0].Length != len("/set@"+telegramtest.BotUsername) {
		t.Errorf("entities of an addressed command %+v", e)
	}
}

func TestWaitMessagesGivesUpWithTheContext(t *testing.T) {
	t.Parallel()
	s := telegramtest.NewServer(t, token)
	call(t, s, "sendMessage", "json", map[string]string{"chat_id": "1", "text": "x"})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	msgs, err := s.WaitMessages(ctx, 2)
	if !errors.Is(err, context.DeadlineExceeded) || len(msgs) != 1 {
		t.Errorf("WaitMessages = %d messages, %v", len(msgs), err)
	}
}

// PushMigration: the old group refuses messages with the new id, and getUpdates delivers both
// service messages as the update model reads them.
func TestPushMigration(t *testing.T) {
	t.Parallel()
	s := telegramtest.NewServer(t, token)
	toID, fromID := s.PushMigration(-555, -1000000000555)
	status, a := call(t, s, "sendMessage", "json", map[string]string{"chat_id": "-555", "text": "x"})
	if status != 400 || a.ErrorCode != 400 || a.Description != telegramtest.DescGroupMigrated || a.Parameters.MigrateToChatID != -1000000000555 {
		t.Errorf("old group: %d %+v", status, a)
	}
	us := updatesOf(t, second(call(t, s, "getUpdates", "json", nil)))
	if len(us) != 2 || us[0].ID != toID || us[1].ID != fromID {
		t.Fatalf("updates = %+v, want ids %d, %d", us, toID, fromID)
	}
	if m := us[0].Message; m == nil || m.Chat.ID != -555 || m.Chat.Type != "group" || m.MigrateToChatID != -1000000000555 || m.Text != "" {
		t.Errorf("migrate_to service message = %+v", m)
	}
	if m := us[1].Message; m == nil || m.Chat.ID != -1000000000555 || m.Chat.Type != "supergroup" || m.MigrateFromChatID != -555 {
		t.Errorf("migrate_from service message = %+v", m)
	}
}
