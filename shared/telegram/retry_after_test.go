package telegram_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

func TestRetryAfterWaitsOutShortFloodControl(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

func TestRetryAfterTriesAtMostAttemptsTimes(t *testing.T) {
	t.Parallel()
	s, fake := newSender(t)
	fake.FailNext("sendMessage", 429, "", 1)
	fake.FailNext("sendMessage", 429, "", 1)
	r := telegram.NewRetryAfter(s, 5*time.Second, 2)
	err := r.Send(context.Background(), 42, "hello")
	var ra *telegram.RetryAfterError
	if !errors.As(err, &ra) || ra.After != time.Second {
		t.Fatalf("flood control on both attempts: got %v, want the RetryAfterError back", err)
	}
	if n := fake.Calls("sendMessage"); n != 2 {
		t.Fatalf("sendMessage called %d times, want 2", n)
	}
	if n := len(fake.Messages()); n != 0 {
		t.Fatalf("fake received %d messages, want none", n)
	}
}

func TestRetryAfterStopsWaitingWhenTheCallerGivesUp(t *testing.T) {
	t.Parallel()
	s, fake := newSender(t)
	fake.FailNext("sendMessage", 429, "", 5)
	r := telegram.NewRetryAfter(s, 10*time.Second, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Send(ctx, 42, "hello") }()
	require.Eventually(t, func() bool { return fake.Calls("sendMessage") == 1 }, 10*time.Second, 5*time.Millisecond)
	cancel()
	err := <-done
	var ra *telegram.RetryAfterError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ra) {
		t.Fatalf("got %v, want context.Canceled and the RetryAfterError in the chain", err)
	}
	if n := fake.Calls("sendMessage"); n != 1 {
		t.Fatalf("sendMessage called %d times, want 1", n)
	}
}
