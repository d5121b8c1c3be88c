package telegram

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// messageSender is what RetryAfter decorates: a Sender, or anything with its error contract.
type messageSender interface {
	Send(ctx context.Context, chatID int64, text string) error
}

// RetryAfter decorates a sender so that Telegram's flood control (429 with retry_after) is honoured
// in place: when Telegram asks to wait at most maxWait, and ctx leaves time for it, Send waits that
// long and tries again (up to attempts times in all). Longer waits, and every other error, are returned
// as they are, so the caller's retry policy (the connector's backoff) takes over.
type RetryAfter struct {
	next     messageSender
	maxWait  time.Duration
	attempts int
	sleep    func(ctx context.Context, d time.Duration) error
}

// NewRetryAfter wraps next. attempts below 1 means 1 (no retry).
func NewRetryAfter(next messageSender, maxWait time.Duration, attempts int) *RetryAfter {
	return &RetryAfter{next: next, maxWait: maxWait, attempts: max(attempts, 1), sleep: sleepCtx}
}

// Send sends through the wrapped sender, waiting out short flood-control pauses. Its error contract is
// the wrapped sender's.
func (r *RetryAfter) Send(ctx context.Context, chatID int64, text string) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = r.next.Send(ctx, chatID, text)
		var ra *RetryAfterError
		if err == nil || !errors.As(err, &ra) || attempt >= r.attempts || ra.After > r.maxWait {
			return err
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < ra.After {
			return err
		}
		if serr := r.sleep(ctx, ra.After); serr != nil {
			return fmt.Errorf("wait %s for flood control: %w", ra.After, errors.Join(err, serr))
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
