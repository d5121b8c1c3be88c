package quotesource_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/quotesource"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

func newCache(t *testing.T, y *yahootest.Server, ttl time.Duration) *quotesource.Cache {
	t.Helper()
	client, err := yahoo.New(yahoo.Config{BaseURL: y.URL(), Timeout: 2 * time.Second}, nil, nil)
	require.NoError(t, err)
	c, err := quotesource.NewCache(client, ttl, 0)
	require.NoError(t, err)
	return c
}

// A burst of concurrent asks for one symbol makes one call to Yahoo: the asks that arrive while it
// runs share it (singleflight), those that arrive after it read the cache.
func TestCacheCoalescesABurstIntoOneUpstreamCall(t *testing.T) {
	y := yahootest.NewServer(t)
	at := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	y.SetQuote("AAPL", 201.3, "USD", at)
	c := newCache(t, y, time.Minute)

	const n = 50
	var wg sync.WaitGroup
	quotes := make([]stockalert.Quote, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { quotes[i], errs[i] = c.Quote(context.Background(), "AAPL") })
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.InDelta(t, 201.3, quotes[i].Price, 1e-9)
		require.Equal(t, "USD", quotes[i].Currency)
	}
	require.Equal(t, 1, y.Requests("AAPL"), "upstream calls for %d concurrent asks", n)
}

// An unknown symbol is remembered too; a failure (Yahoo down) is not: the next ask tries again. Once
// the TTL has passed a quote is asked again.
func TestCacheKeepsAnswersForTheTTLButNotFailures(t *testing.T) {
	y := yahootest.NewServer(t)
	y.SetQuote("AAPL", 201.3, "USD", time.Now())
	c := newCache(t, y, 200*time.Millisecond)
	ctx := context.Background()

	for range 3 {
		_, err := c.Quote(ctx, "NOPE")
		require.ErrorIs(t, err, stockalert.ErrNotFound)
	}
	require.Equal(t, 1, y.Requests("NOPE"))

	y.Fail("MSFT", http.StatusInternalServerError, 1)
	_, err := c.Quote(ctx, "MSFT")
	require.Error(t, err)
	require.False(t, errors.Is(err, stockalert.ErrNotFound), "a 500 is not an unknown symbol: %v", err)
	y.SetQuote("MSFT", 498.2, "USD", time.Now())
	q, err := c.Quote(ctx, "MSFT")
	require.NoError(t, err, "the failure was not kept")
	require.InDelta(t, 498.2, q.Price, 1e-9)
	require.Equal(t, 2, y.Requests("MSFT"))

	_, err = c.Quote(ctx, "AAPL")
	require.NoError(t, err)
	require.Equal(t, 1, y.Requests("AAPL"))
	require.Eventually(t, func() bool {
		_, err := c.Quote(ctx, "AAPL")
		return err == nil && y.Requests("AAPL") == 2
	}, 5*time.Second, 20*time.Millisecond, "asked again once the TTL passed")
}

func TestCacheNeedsAPositiveTTL(t *testing.T) {
	_, err := quotesource.NewCache(nil, 0, 0)
	require.ErrorContains(t, err, "TTL must be positive")
}
