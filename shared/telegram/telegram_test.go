package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/alertmessage"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

func newSender(t *testing.T, opts ...telegram.Option) (*telegram.Sender, *telegramtest.Server) {
	t.Helper()
	fake := telegramtest.NewServer(t, token)
	s, err := telegram.NewSender(token, fake.URL(), opts...)
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}
	return s, fake
}

func TestSend(t *testing.T) {
	t.Parallel()
	s, fake := newSender(t)
	if n := fake.Calls(""); n != 0 {
		t.Fatalf("NewSender made %d calls, want none", n)
	}
	text := "🔔 BRK-B is above your high threshold of 480.00 USD\n^GSPC (S&P 500) *not* bold_ [x](y)"
	if err := s.Send(context.Background(), 42, text); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := s.Send(context.Background(), -1001234567890, "group"); err != nil {
		t.Fatalf("Send to a group: %v", err)
	}
	msgs := fake.Messages()
	if len(msgs) != 2 || msgs[0].ChatID != 42 || msgs[0].Text != text || msgs[0].ParseMode != "" || msgs[1].ChatID != -1001234567890 {
		t.Fatalf("fake recorded %+v", msgs)
	}
}

func TestSendErrorClasses(t *testing.T) {
	t.Parallel()
	type want struct {
		undeliverable, chatGone, transient, misconfigured bool
		retryAfter                                        time.Duration
	}
	cases := []struct {
		name   string
		inject func(*telegramtest.Server)
		want   want
	}{
		{"429 with retry_after", func(f *telegramtest.Server) { f.FailNext("sendMessage", 429, "", 7) },
			want{transient: true, retryAfter: 7 * time.Second}},
		{"429 without retry_after", func(f *telegramtest.Server) { f.FailNext("sendMessage", 429, "Too Many Requests", 0) },
			want{transient: true, retryAfter: time.Second}},
		{"blocked", func(f *telegramtest.Server) { f.RejectChat(42, 403, telegramtest.DescBlocked) },
			want{undeliverable: true, chatGone: true}},
		{"deactivated", func(f *telegramtest.Server) { f.RejectChat(42, 403, telegramtest.DescUserDeactivated) },
			want{undeliverable: true, chatGone: true}},
		{"kicked", func(f *telegramtest.Server) { f.RejectChat(42, 403, telegramtest.DescKicked) },
			want{undeliverable: true, chatGone: true}},
		{"chat not found", func(f *telegramtest.Server) { f.RejectChat(42, 400, telegramtest.DescChatNotFound) },
			want{undeliverable: true, chatGone: true}},
		{"group migrated", func(f *telegramtest.Server) { f.MigrateChat(42, -1009876543210) },
			want{transient: true}}, // not undeliverable: *ChatMigratedError, checked below
		{"other bad request", func(f *telegramtest.Server) { f.FailNext("sendMessage", 400, "Bad Request: message is too long", 0) },
			want{undeliverable: true}},
		{"500", func(f *telegramtest.Server) { f.FailNext("sendMessage", 500, "Internal Server Error", 0) },
			want{transient: true}},
		{"502 page from a proxy", func(f *telegramtest.Server) { f.FailNextHTTP("", 502, "<html>Bad Gateway</html>") },
			want{transient: true}},
		{"409", func(f *telegramtest.Server) { f.FailNext("", 409, "Conflict: whatever", 0) },
			want{transient: true}},
		{"timeout", func(f *telegramtest.Server) { f.StallNext("sendMessage") },
			want{transient: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []telegram.Option
			if tc.name == "timeout" {
				opts = append(opts, telegram.WithTimeout(200*time.Millisecond))
			}
			s, fake := newSender(t, opts...)
			tc.inject(fake)
			err := s.Send(context.Background(), 42, "hello")
			checkClass(t, err, tc.want.undeliverable, tc.want.chatGone, tc.want.transient, tc.want.misconfigured)
			var ra *telegram.RetryAfterError
			if got := errors.As(err, &ra); got != (tc.want.retryAfter > 0) || (got && ra.After != tc.want.retryAfter) {
				t.Errorf("RetryAfterError = %v (%v), want After %s", got, ra, tc.want.retryAfter)
			}
			if len(fake.Messages()) != 0 {
				t.Errorf("a failed send was recorded")
			}
			if tc.name == "timeout" && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("timeout: err = %v, want DeadlineExceeded in the chain", err)
			}
			var migrated *telegram.ChatMigratedError
			if got := errors.As(err, &migrated); got != (tc.name == "group migrated") {
				t.Errorf("ChatMigratedError = %v (%v)", got, err)
			} else if got && (migrated.From != 42 || migrated.To != -1009876543210 || !strings.Contains(err.Error(), "-1009876543210")) {
				t.Errorf("migration error %+v (%q): want from 42 to -1009876543210, named in the text", migrated, err)
			}
		})
	}
}

func checkClass(t *testing.T, err error, undeliverable, chatGone, transient, misconfigured bool) {
	t.Helper()
	if err == nil {
		t.Fatal("err = nil")
	}
	for _, c := range []struct {
		name     string
		sentinel error
		want     bool
	}{
		{"ErrUndeliverable", telegram.ErrUndeliverable, undeliverable},
		{"ErrChatGone", telegram.ErrChatGone, chatGone},
		{"ErrTransient", telegram.ErrTransient, transient},
		{"ErrMisconfigured", telegram.ErrMisconfigured, misconfigured},
	} {
		if got := errors.Is(err, c.sentinel); got != c.want {
			t.Errorf("errors.Is(%q, %s) = %v, want %v", err, c.name, got, c.want)
		}
	}
}

func TestSendWhenTheBotIsRefused(t *testing.T) {
	t.Parallel()
	fake := telegramtest.NewServer(t, token)
	wrongToken, err := telegram.NewSender("987:other", fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	err = wrongToken.Send(context.Background(), 42, "hi")
	checkClass(t, err, false, false, true, true)
	if strings.Contains(err.Error(), "987:other") {
		t.Errorf("error %q leaks the token", err)
	}

	wrongURL, err := telegram.NewSender(token, fake.URL()+"/v2")
	if err != nil {
		t.Fatal(err)
	}
	checkClass(t, wrongURL.Send(context.Background(), 42, "hi"), false, false, true, true)
}

func TestSendWhenTelegramIsUnreachable(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	s, err := telegram.NewSender(token, dead.URL)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), 42, "hi")
	checkClass(t, err, false, false, true, false)
	if strings.Contains(err.Error(), token) {
		t.Errorf("error %q leaks the token", err)
	}
}

func TestSendWhenTheCallerGivesUp(t *testing.T) {
	t.Parallel()
	s, fake := newSender(t)
	fake.StallNext("sendMessage")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, 42, "hi") }()
	require.Eventually(t, func() bool { return fake.Calls("sendMessage") == 1 }, 10*time.Second, 5*time.Millisecond)
	cancel()
	err := <-done
	checkClass(t, err, false, false, true, false)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled in the chain", err)
	}
}

func TestSendRejectsBadInputWithoutCalling(t *testing.T) {
	t.Parallel()
	s, fake := newSender(t)
	cases := []struct {
		chat  int64
		text  string
		field string
	}{
		{0, "hi", "telegram_chat_id"},
		{42, "", "text"},
		{42, " \n\t", "text"},
		{42, strings.Repeat("a", telegram.MaxMessageLen+1), "text"},
		{42, strings.Repeat("😀", telegram.MaxMessageLen/2+1), "text"}, // 2 UTF-16 units each
	}
	for _, tc := range cases {
		err := s.Send(context.Background(), tc.chat, tc.text)
		if v, ok := stockalert.AsValidation(err); !ok || v.Field != tc.field {
			t.Errorf("Send(%d, %.20q) err = %v, want a validation error for %s", tc.chat, tc.text, err, tc.field)
		}
		checkClass(t, err, true, false, false, false)
	}
	if err := s.Send(context.Background(), 42, strings.Repeat("😀", telegram.MaxMessageLen/2)); err != nil {
		t.Errorf("a message of exactly the limit: %v", err)
	}
	if n := fake.Calls("sendMessage"); n != 1 {
		t.Errorf("fake saw %d calls, want only the valid one", n)
	}
}

func TestNewSenderValidates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		token, url string
		opts       []telegram.Option
	}{
		{"", "", nil},
		{"not-a-token", "", nil},
		{"123:abc def", "", nil},
		{token, "api.telegram.org", nil},
		{token, "ftp://api.telegram.org", nil},
		{token, "", []telegram.Option{telegram.WithTimeout(0)}},
	} {
		_, err := telegram.NewSender(tc.token, tc.url, tc.opts...)
		if err == nil {
			t.Errorf("NewSender(%q, %q) succeeded", tc.token, tc.url)
			continue
		}
		if tc.token != "" && strings.Contains(err.Error(), tc.token) {
			t.Errorf("error %q repeats the token", err)
		}
	}
	if _, err := telegram.NewSender(token, ""); err != nil {
		t.Errorf("default API URL: %v", err)
	}
}

func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	s, fake := newSender(t)
	var wg sync.WaitGroup
	for i := 1; i <= 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Send(context.Background(), int64(i), fmt.Sprintf("message %d", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	msgs := fake.Messages()
	seen := map[int64]string{}
	for _, m := range msgs {
		seen[m.ChatID] = m.Text
	}
	for i := int64(1); i <= 20; i++ {
		if seen[i] != fmt.Sprintf("message %d", i) {
			t.Errorf("chat %d got %q", i, seen[i])
		}
	}
}

// Send uses no parse mode: a text reaches the chat exactly as written, symbols, emoji and all, so the
// alert texts (shared/alertmessage) need no escaping.
func TestSendIsPlainText(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 14, 23, 59, 0, 0, time.UTC)
	texts := []string{
		alertmessage.Text(stockalert.AlertEvent{Ticker: "BRK-B", Condition: stockalert.Above, Price: 481.23, Currency: "USD", Threshold: 480, Time: at}, time.UTC),
		alertmessage.Text(stockalert.AlertEvent{Kind: stockalert.KindChangePct, Ticker: "M&M.NS", Condition: stockalert.Below, Price: 3120.4,
			Currency: "INR", Percent: 3, PreviousClose: 3230, Note: "<b>not bold</b> *nor* _this_ [link](x)", Time: at}, time.UTC),
		alertmessage.Text(stockalert.AlertEvent{Ticker: "ZZZQ", Condition: stockalert.SymbolDropped, Time: at}, time.UTC),
		"^GSPC EURUSD=X 72.50 GBp (pence) & < > `code`",
	}
	s, fake := newSender(t)
	for i, text := range texts {
		if err := s.Send(context.Background(), 42, text); err != nil {
			t.Fatal(err)
		}
		if m := fake.Messages()[i]; m.Text != text {
			t.Errorf("delivered %q, want %q", m.Text, text)
		}
	}
}

func BenchmarkSend(b *testing.B) {
	fake := telegramtest.NewServer(b, token)
	s, err := telegram.NewSender(token, fake.URL())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Send(context.Background(), 42, "🔔 AAPL is above your high threshold of 200.00 USD"); err != nil {
			b.Fatal(err)
		}
	}
}

// A group upgraded to a supergroup: the wire answer (400 with parameters.migrate_to_chat_id) becomes a
// *ChatMigratedError naming both ids, nothing reaches the old chat, and the new id takes the message.
func TestSendToMigratedGroup(t *testing.T) {
	s, fake := newSender(t)
	const group, supergroup = int64(-4001), int64(-1004001004001)
	fake.MigrateChat(group, supergroup)
	err := s.Send(context.Background(), group, "hello")
	var migrated *telegram.ChatMigratedError
	if !errors.As(err, &migrated) || migrated.From != group || migrated.To != supergroup {
		t.Fatalf("err = %v, want *ChatMigratedError from %d to %d", err, group, supergroup)
	}
	if errors.Is(err, telegram.ErrUndeliverable) || !errors.Is(err, telegram.ErrTransient) {
		t.Errorf("err = %v: a migration is transient, never undeliverable", err)
	}
	if err := s.Send(context.Background(), migrated.To, "hello"); err != nil {
		t.Fatalf("send to the supergroup: %v", err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || msgs[0].ChatID != supergroup {
		t.Errorf("messages = %+v, want one, to %d", msgs, supergroup)
	}
}

func TestSendWithAKeyboardAndTheOtherBotMethods(t *testing.T) {
	s, fake := newSender(t)
	ctx := context.Background()
	require.NoError(t, s.Send(ctx, 42, "AAPL is above 200.00 USD",
		[]stockalert.ChatButton{{Text: "Snooze 1h", Data: "snooze:7"}, {Text: "Delete alert", Data: "delete:7"}}))
	msgs := fake.Messages()
	require.Len(t, msgs, 1)
	require.JSONEq(t, `{"inline_keyboard":[[{"text":"Snooze 1h","callback_data":"snooze:7"},{"text":"Delete alert","callback_data":"delete:7"}]]}`,
		msgs[0].ReplyMarkup)

	err := s.Send(ctx, 42, "x", []stockalert.ChatButton{{Text: "too long", Data: strings.Repeat("d", stockalert.MaxButtonData+1)}})
	require.ErrorIs(t, err, telegram.ErrUndeliverable, "Telegram would refuse it: nothing is sent")
	require.Len(t, fake.Messages(), 1)

	require.NoError(t, s.AnswerCallbackQuery(ctx, "q1", "Snoozed for 1 hour"))
	require.Equal(t, []telegramtest.CallbackAnswer{{CallbackQueryID: "q1", Text: "Snoozed for 1 hour"}}, fake.CallbackAnswers())

	fake.SetChatMember(-100, 5, "administrator")
	status, err := s.ChatMemberStatus(ctx, -100, 5)
	require.NoError(t, err)
	require.Equal(t, "administrator", status)
	status, err = s.ChatMemberStatus(ctx, -100, 6)
	require.NoError(t, err)
	require.Equal(t, "member", status)

	cmds := []telegram.BotCommand{{Command: "watch", Description: "watch a ticker"}, {Command: "price", Description: "current quote"}}
	require.NoError(t, s.SetMyCommands(ctx, telegram.ScopePrivateChats, cmds))
	require.Equal(t, []telegramtest.BotCommand{{Command: "watch", Description: "watch a ticker"}, {Command: "price", Description: "current quote"}},
		fake.Commands(telegram.ScopePrivateChats))
	require.Error(t, s.SetMyCommands(ctx, telegram.ScopePrivateChats, []telegram.BotCommand{{Command: "Bad-Name", Description: "x"}}))
}
