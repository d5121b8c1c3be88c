package randomwalk_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/randomwalk"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// A simulated history ends at the current price, spans the range, is oldest first, and is the same
// for the same seed; asking for it does not move the walk.
func TestHistoryEndsAtTheCurrentPriceAndSpansTheRange(t *testing.T) {
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	s := randomwalk.New(randomwalk.Config{Seed: 7}, func() time.Time { return now })
	ctx := context.Background()
	q, err := s.Quote(ctx, "AAPL")
	require.NoError(t, err)

	h, err := s.History(ctx, "AAPL", stockalert.Range1Month)
	require.NoError(t, err)
	require.Equal(t, "USD", h.Currency)
	require.Len(t, h.Points, 120)
	last := h.Points[len(h.Points)-1]
	require.Equal(t, now, last.Time)
	require.InDelta(t, q.Price, last.Price, 1e-9)
	require.WithinDuration(t, now.Add(-30*24*time.Hour), h.Points[0].Time, time.Minute)
	for i := 1; i < len(h.Points); i++ {
		require.True(t, h.Points[i].Time.After(h.Points[i-1].Time))
		require.Greater(t, h.Points[i].Price, 0.0)
		ratio := h.Points[i].Price / h.Points[i-1].Price
		require.InDelta(t, 1, ratio, 0.2, "a plausible step")
	}

	again, err := s.History(ctx, "AAPL", stockalert.Range1Month)
	require.NoError(t, err)
	require.Equal(t, h, again)
	q2, err := s.Quote(ctx, "AAPL")
	require.NoError(t, err)
	require.NotEqual(t, 0.0, q2.Price)

	_, err = s.History(ctx, "AAPL", "2w")
	require.Error(t, err)
}
