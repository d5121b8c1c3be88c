package telegram

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// messageSender is what RetryAfter decorates: a Sender, or anything with its error contract.
type messageSender interface {
	Send(ctx context.Context, chatID int64, text string, keyboard ...[]stockalert.ChatButton) error
}

// RetryAfter decorates a sender so that Telegram's flood control (429 with retry_after) is honoured
// in place: when Telegram asks to wait at most maxWait, and ctx leaves time for it, Send waits that
// long and tries again (up to attempts times in all). Longer waits, and every other error, are returned
// as they are, so the caller's retry policy (the connector's backoff) takes over.
type RetryAfter struct {
	next     messageSender
	maxWait  time.Duration
	attempts int
}

// NewRetryAfter wraps next. attempts below 1 means 1 (no retry).
func NewRetryAfter(next messageSender, maxWait time.Duration, attempts int) *RetryAfter {
	return &RetryAfter{next: next, maxWait: maxWait, attempts: max(attempts, 1)}
}

// Send sends through the wrapped sender, waiting out short flood-control pauses. Its error contract is
// the wrapped sender's; when ctx ends during a pause, the error wraps both ctx's error and the
// *RetryAfterError.
func (r *RetryAfter) Send(ctx context.Context, chatID int64, text string, keyboard ...[]stockalert.ChatButton) error {
	var last error
	var wait time.Duration
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		last = r.next.Send(ctx, chatID, text, keyboard...)
		if last == nil {
			return struct{}{}, nil
		}
		var ra *RetryAfterError
		if !errors.As(last, &ra) || ra.After > r.maxWait {
			return struct{}{}, backoff.Permanent(last)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < ra.After {
			return struct{}{}, backoff.Permanent(last)
		}
		wait = ra.After
		return struct{}{}, &backoff.RetryAfterError{Duration: ra.After}
	},
		backoff.WithBackOff(&backoff.ZeroBackOff{}), // every pause is the one Telegram asked for
		backoff.WithMaxTries(uint(r.attempts)),      //nolint:gosec // attempts is at least 1
		backoff.WithMaxElapsedTime(0))
	var tries *backoff.RetryAfterError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, last), errors.As(err, &tries):
		// Not flood control, too long a pause, or the attempts are used up: Telegram's answer as it is.
		return last
	default:
		return fmt.Errorf("wait %s for flood control: %w", wait, errors.Join(last, err))
	}
}
