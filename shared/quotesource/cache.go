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

// DefaultCacheSize bounds how many symbols a Cache remembers when NewCache is given size < 1.
const DefaultCacheSize = 1024

// Cache is a Source that remembers each symbol's answer for a while and coalesces concurrent asks: a
// burst of requests for one symbol, at once or within the TTL, makes one call to the source beneath
// (its circuit breaker included). Quotes and "unknown symbol" answers (stockalert.ErrNotFound) are
// kept for the TTL; any other failure (unreachable, breaker open, timeout) is not kept, so the next
// ask tries again. Safe for concurrent use.
//
// Coalescing uses golang.org/x/sync/singleflight; the answers sit in hashicorp/golang-lru/v2's LRU
// (least recently used symbols go first past size) with the time they expire, checked on read. (Its
// expirable variant is not used: it starts a goroutine that nothing stops.)
type Cache struct {
	src     Source
	ttl     time.Duration
	now     func() time.Time
	group   singleflight.Group
	answers *lru.Cache[stockalert.Ticker, cached]
}

// cached is a kept answer: a quote, or known=false for a symbol the source does not know.
type cached struct {
	quote   stockalert.Quote
	known   bool
	expires time.Time
}

// NewCache wraps src: answers are kept for ttl (> 0), for at most size symbols (DefaultCacheSize when
// size < 1).
func NewCache(src Source, ttl time.Duration, size int) (*Cache, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("quote cache: the TTL must be positive, got %s", ttl)
	}
	if size < 1 {
		size = DefaultCacheSize
	}
	answers, err := lru.New[stockalert.Ticker, cached](size)
	if err != nil {
		return nil, fmt.Errorf("quote cache: %w", err)
	}
	return &Cache{src: src, ttl: ttl, now: time.Now, answers: answers}, nil
}

// Quote returns t's quote from the cache, or asks the source once for every concurrent caller. The
// errors are the source's: stockalert.ErrNotFound for an unknown symbol, any other when it could not
// tell. A caller whose ctx ends while the shared call runs returns ctx's error; the call goes on for
// the others.
func (c *Cache) Quote(ctx context.Context, t stockalert.Ticker) (stockalert.Quote, error) {
	if q, ok, err := c.kept(t); ok {
		return q, err
	}
	ch := c.group.DoChan(string(t), func() (any, error) {
		// Asked again inside the flight: a caller that missed the cache just before an earlier flight
		// stored its answer and ended starts a new flight, which must find that answer, not call again.
		if q, ok, err := c.kept(t); ok {
			return q, err
		}
		// The shared call must not end when the first caller gives up: the others wait for it. It
		// keeps the first caller's values and deadline at most.
		qctx := context.WithoutCancel(ctx)
		if deadline, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			qctx, cancel = context.WithDeadline(qctx, deadline)
			defer cancel()
		}
		q, err := c.src.Quote(qctx, t)
		switch {
		case err == nil:
			c.answers.Add(t, cached{quote: q, known: true, expires: c.now().Add(c.ttl)})
		case errors.Is(err, stockalert.ErrNotFound):
			c.answers.Add(t, cached{expires: c.now().Add(c.ttl)})
		}
		return q, err
	})
	select {
	case <-ctx.Done():
		return stockalert.Quote{}, fmt.Errorf("quote %s: %w", t, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return stockalert.Quote{}, r.Err
		}
		return r.Val.(stockalert.Quote), nil //nolint:forcetypeassert // the function above returns a Quote
	}
}

// kept returns t's kept answer, ok=false when there is none or it has expired: its quote, or an error
// wrapping stockalert.ErrNotFound for a symbol the source does not know.
func (c *Cache) kept(t stockalert.Ticker) (q stockalert.Quote, ok bool, err error) {
	a, found := c.answers.Get(t)
	if !found || !c.now().Before(a.expires) {
		return stockalert.Quote{}, false, nil
	}
	if !a.known {
		return stockalert.Quote{}, true, fmt.Errorf("quote %s: %w", t, stockalert.ErrNotFound)
	}
	return a.quote, true, nil
}
