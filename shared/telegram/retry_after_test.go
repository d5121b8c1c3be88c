package telegram_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

func TestRetryAfterWaitsOutShortFloodControl(t *testing.T) {
	s, fake := newSender(t)
	fake.FailNext("sendMessage", 429, "", 1)
	r := telegram.NewRetryAfter(s, 5*time.Second, 3)
	start := time.Now()
	if err := r.Send(context.Background(), 42, "hello"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("sent again after %s, before the 1 s Telegram asked for", waited)
	}
	if n := len(fake.Messages()); n != 1 {
		t.Fatalf("fake received %d messages, want 1", n)
	}
}

func TestRetryAfterReturnsLongWaitsAndOtherErrors(t *testing.T) {
	s, fake := newSender(t)
	r := telegram.NewRetryAfter(s, 2*time.Second, 3)

	fake.FailNext("sendMessage", 429, "", 30)
	err := r.Send(context.Background(), 42, "hello")
	var ra *telegram.RetryAfterError
	if !errors.As(err, &ra) || ra.After != 30*time.Second {
		t.Fatalf("a 30 s pause: got %v, want the RetryAfterError back", err)
	}

	fake.FailNext("sendMessage", 403, telegramtest.DescBlocked, 0)
	if err := r.Send(context.Background(), 42, "hello"); !errors.Is(err, stockalert.ErrUndeliverable) {
		t.Fatalf("blocked bot: got %v, want an undeliverable error", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	fake.FailNext("sendMessage", 429, "", 1)
	if err := r.Send(ctx, 42, "hello"); !errors.As(err, &ra) {
		t.Fatalf("a pause longer than the deadline left: got %v, want the RetryAfterError back", err)
	}
	if n := len(fake.Messages()); n != 0 {
		t.Fatalf("fake received %d messages, want none", n)
	}
}
