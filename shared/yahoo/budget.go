package yahoo

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// minThrottledRate is the floor a run of 429s halves the request rate down to (requests/s).
const minThrottledRate = 0.5

// maxRetryAfter caps how long one Retry-After pauses a host: a larger value is read as this one.
const maxRetryAfter = 5 * time.Minute

// budgets holds one request budget per upstream host (the chart/quote host, the cookie host…).
type budgets struct {
	limit rate.Limit
	burst int
	// hold is how long a throttled host keeps its lowered rate after its last 429.
	hold time.Duration
	now  func() time.Time
	// onRate reports a host's current rate (requests/s) whenever it changes.
	onRate func(host string, r float64)

	mu    sync.Mutex
	hosts map[string]*hostBudget
}

// hostBudget is one host's budget: a token bucket (golang.org/x/time/rate), and after a 429 a
// lowered rate and a pause until the answer's Retry-After.
type hostBudget struct {
	lim         *rate.Limiter
	pausedUntil time.Time
	// throttledAt is the time of the last 429 (zero: the host runs at the configured rate).
	throttledAt time.Time
}

func newBudgets(limit float64, burst int, hold time.Duration, onRate func(string, float64)) *budgets {
	return &budgets{limit: rate.Limit(limit), burst: burst, hold: hold, now: time.Now, onRate: onRate,
		hosts: map[string]*hostBudget{}}
}

// host returns host's budget, creating it at the configured rate. b.mu must be held.
func (b *budgets) host(host string) *hostBudget {
	h, ok := b.hosts[host]
	if !ok {
		h = &hostBudget{lim: rate.NewLimiter(b.limit, b.burst)}
		b.hosts[host] = h
		b.onRate(host, float64(b.limit))
	}
	return h
}

// wait blocks until host's budget lets one more request go: after any Retry-After pause, then a token
// of the (possibly lowered) rate. A host whose lowered rate has been quiet for hold gets the
// configured rate back first. It returns ctx's error when ctx ends first; at once, an error wrapping
// ErrUnavailable when a Retry-After pause outlasts ctx's deadline (Yahoo refuses us), or one wrapping
// context.DeadlineExceeded when the budget has no token before it (our own pace: no outage).
func (b *budgets) wait(ctx context.Context, host string) error {
	b.mu.Lock()
	h := b.host(host)
	now := b.now()
	if !h.throttledAt.IsZero() && now.Sub(h.throttledAt) >= b.hold {
		h.throttledAt = time.Time{}
		h.lim.SetLimitAt(now, b.limit)
		h.lim.SetBurstAt(now, b.burst)
		b.onRate(host, float64(b.limit))
	}
	pause := h.pausedUntil.Sub(now)
	lim := h.lim
	b.mu.Unlock()

	if pause > 0 {
		if dl, ok := ctx.Deadline(); ok && now.Add(pause).After(dl) {
			return fmt.Errorf("%w: %s asked us to wait %s (Retry-After), past the caller's deadline", ErrUnavailable, host, pause.Round(time.Second))
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("request abandoned: %w", context.Cause(ctx))
		case <-t.C:
		}
	}
	if err := lim.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("request abandoned: %w", context.Cause(ctx))
		}
		// The limiter refuses a wait that would outlast ctx's deadline: our own budget, not Yahoo's
		// failure, so the breaker does not count it.
		return fmt.Errorf("request abandoned: no token of %s's request budget before the caller's deadline (%w): %w", host, err, context.DeadlineExceeded)
	}
	return nil
}

// throttled records a 429 (or a Retry-After) from host: the host's rate halves (down to
// minThrottledRate), its burst shrinks to the new rate, and no request goes to it before retryAfter
// has passed. It returns the pause to honour before retrying.
func (b *budgets) throttled(host string, retryAfter time.Duration) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.host(host)
	now := b.now()
	r := math.Max(float64(h.lim.Limit())/2, minThrottledRate)
	if r > float64(b.limit) {
		r = float64(b.limit)
	}
	h.lim.SetLimitAt(now, rate.Limit(r))
	h.lim.SetBurstAt(now, max(1, int(r)))
	h.throttledAt = now
	if until := now.Add(min(retryAfter, maxRetryAfter)); until.After(h.pausedUntil) {
		h.pausedUntil = until
	}
	b.onRate(host, r)
	return h.pausedUntil.Sub(now)
}

// rate is host's current request rate (requests/s): the configured one, or lower after a 429.
func (b *budgets) rate(host string) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return float64(b.host(host).lim.Limit())
}

// retryAfter reads a Retry-After header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. It returns
// 0 and false when the header is absent or unreadable.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
