package kafkaconnector

import (
	"context"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// retryPolicy retries an operation with exponential backoff and jitter.
type retryPolicy struct {
	attempts int // 0: until ctx ends
	initial  time.Duration
	max      time.Duration
}

// retryable is an error that says whether another attempt may succeed, and how long to wait first
// (zero: the policy decides).
type retryable interface {
	error
	Retryable() bool
}

// do runs op until it succeeds, fails for good, the attempts are used up, or ctx ends. It returns
// the number of attempts made and op's last error (nil on success). Errors that do not implement
// retryable, or say they are not, end the loop at once. Callers check ctx to tell an interrupted
// loop from a failed one. onRetry, if not nil, is called before each wait. An invocation's
// Retry-After is waited for exactly (whole seconds, rounded up); one longer than max ends the loop
// with that (retryable) error, for the caller to park the message until it has passed.
func (p retryPolicy) do(ctx context.Context, op func() error, onRetry func(err error, wait time.Duration)) (int, error) {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     p.initial,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         p.max,
	}
	attempts := 0
	var last error
	// The answer of Retry is last, or a wrapper of it, or ctx's cause; last says it all.
	_, _ = backoff.Retry(ctx, func() (struct{}, error) {
		attempts++
		last = op()
		if last == nil {
			return struct{}{}, nil
		}
		var r retryable
		if !errors.As(last, &r) || !r.Retryable() {
			return struct{}{}, backoff.Permanent(last)
		}
		var ie *invocationError
		if errors.As(last, &ie) && ie.RetryAfter > 0 {
			if ie.RetryAfter > p.max {
				// Longer than a wait in place may be: the caller parks the message until then.
				return struct{}{}, backoff.Permanent(last)
			}
			return struct{}{}, backoff.RetryAfter(int((ie.RetryAfter + time.Second - 1) / time.Second))
		}
		return struct{}{}, last
	},
		backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(max(p.attempts, 0))),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(_ error, wait time.Duration) {
			if onRetry != nil {
				onRetry(last, wait)
			}
		}))
	return attempts, last
}
