package quotesource

import (
	"context"
	"errors"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// HistorySource gives a ticker's price history over a chart range (a *yahoo.Client, a
// *randomwalk.Source, or a Source).
type HistorySource interface {
	History(ctx context.Context, t stockalert.Ticker, rng stockalert.ChartRange) (stockalert.PriceHistory, error)
}

// HistoryCache is a HistorySource that keeps each (ticker, range)'s answer for a TTL and coalesces
// concurrent asks into one call to the source beneath, as Cache does for quotes: histories and
// "unknown symbol" answers are kept, other failures (unreachable, breaker open) are not. Safe for
// concurrent use.
type HistoryCache struct {
	src     HistorySource
	ttl     time.Duration
	now     func() time.Time
	group   singleflight.Group
	answers *lru.Cache[historyKey, cachedHistory]
}

type historyKey struct {
	ticker stockalert.Ticker
	rng    stockalert.ChartRange
}

type cachedHistory struct {
	history stockalert.PriceHistory
	known   bool
	expires time.Time
}

// NewHistoryCache wraps src: answers are kept for ttl (> 0), for at most size (ticker, range) pairs
// (DefaultCacheSize when size < 1).
func NewHistoryCache(src HistorySource, ttl time.Duration, size int) (*HistoryCache, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("history cache: the TTL must be positive, got %s", ttl)
	}
	if size < 1 {
		size = DefaultCacheSize
	}
	answers, err := lru.New[historyKey, cachedHistory](size)
	if err != nil {
		return nil, fmt.Errorf("history cache: %w", err)
	}
	return &HistoryCache{src: src, ttl: ttl, now: time.Now, answers: answers}, nil
}

// History returns t's history over rng from the cache, or asks the source once for every concurrent
// caller. Errors are the source's; a caller whose ctx ends first returns ctx's error.
func (c *HistoryCache) History(ctx context.Context, t stockalert.Ticker, rng stockalert.ChartRange) (stockalert.PriceHistory, error) {
	key := historyKey{t, rng}
	if h, ok, err := c.kept(key); ok {
		return h, err
	}
	ch := c.group.DoChan(string(t)+" "+string(rng), func() (any, error) {
		// Asked again inside the flight, as Cache.Quote does: an earlier flight may have stored the
		// answer between the look-up above and this flight.
		if h, ok, err := c.kept(key); ok {
			return h, err
		}
		hctx := context.WithoutCancel(ctx)
		if deadline, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			hctx, cancel = context.WithDeadline(hctx, deadline)
			defer cancel()
		}
		h, err := c.src.History(hctx, t, rng)
		switch {
		case err == nil:
			c.answers.Add(key, cachedHistory{history: h, known: true, expires: c.now().Add(c.ttl)})
		case errors.Is(err, stockalert.ErrNotFound):
			c.answers.Add(key, cachedHistory{expires: c.now().Add(c.ttl)})
		}
		return h, err
	})
	select {
	case <-ctx.Done():
		return stockalert.PriceHistory{}, fmt.Errorf("history %s %s: %w", t, rng, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return stockalert.PriceHistory{}, r.Err
		}
		return r.Val.(stockalert.PriceHistory), nil //nolint:forcetypeassert // the function above returns a PriceHistory
	}
}

// kept returns key's kept answer, ok=false when there is none or it has expired: its history, or an
// error wrapping stockalert.ErrNotFound for a symbol the source does not know.
func (c *HistoryCache) kept(key historyKey) (h stockalert.PriceHistory, ok bool, err error) {
	a, found := c.answers.Get(key)
	if !found || !c.now().Before(a.expires) {
		return stockalert.PriceHistory{}, false, nil
	}
	if !a.known {
		return stockalert.PriceHistory{}, true, fmt.Errorf("history %s %s: %w", key.ticker, key.rng, stockalert.ErrNotFound)
	}
	return a.history, true, nil
}
