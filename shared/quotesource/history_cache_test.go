package quotesource_test

import (
	"context"
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

// A burst of asks for one (ticker, range) makes one call to Yahoo; another range is its own entry;
// a failure is not kept.
func TestHistoryCacheCoalescesABurstPerTickerAndRange(t *testing.T) {
	y := yahootest.NewServer(t)
	y.SetQuote("AAPL", 201.3, "USD", time.Now())
	client, err := yahoo.New(yahoo.Config{BaseURL: y.URL(), Timeout: 2 * time.Second}, nil, nil)
	require.NoError(t, err)
	c, err := quotesource.NewHistoryCache(client, time.Minute, 0)
	require.NoError(t, err)

	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = c.History(context.Background(), "AAPL", stockalert.Range5Days) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, y.Requests("AAPL"), "upstream calls for %d concurrent asks", n)

	_, err = c.History(context.Background(), "AAPL", stockalert.Range1Year)
	require.NoError(t, err)
	require.Equal(t, 2, y.Requests("AAPL"), "another range is another entry")

	y.Fail("MSFT", http.StatusInternalServerError, 1)
	y.SetQuote("MSFT", 498.2, "USD", time.Now())
	_, err = c.History(context.Background(), "MSFT", stockalert.Range1Day)
	require.ErrorIs(t, err, yahoo.ErrUnavailable)
	_, err = c.History(context.Background(), "MSFT", stockalert.Range1Day)
	require.NoError(t, err, "the failure was not kept")
}
