package collector_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// A symbol accepted unverified (Yahoo was unreachable when it was added) that Yahoo keeps answering
// 404 for is dropped after UNVERIFIED_SYMBOL_MAX_MISSES runs: its subscriptions go, and each of its
// users gets a notice on the alerts topic. A verified symbol that answers 404 is never dropped, and an
// unverified one that gets priced is verified.
func TestAnUnverifiedSymbolUnknownForMaxMissesRunsIsDroppedWithANotice(t *testing.T) {
	r := newRig(t)
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	r.yahoo.SetQuote("AAPL", 190, "USD", at)
	r.subscribe(t, "ann@example.com", "ZZZQ", "AAPL")
	r.subscribe(t, "bob@example.com", "ZZZQ")
	r.subscribe(t, "cy@example.com", "DELIST", "LATER")
	ctx := context.Background()
	for _, tk := range []stockalert.Ticker{"ZZZQ", "LATER"} {
		require.NoError(t, r.store.MarkUnverified(ctx, tk))
	}
	c := r.collector(t, r.brokers)

	for run := 1; run <= 2; run++ {
		rep, err := c.Run(ctx)
		require.NoError(t, err)
		require.ElementsMatch(t, []stockalert.Ticker{"ZZZQ", "DELIST", "LATER"}, rep.Unknown)
		require.Equal(t, 2, storetest.Count(t, r.store.DB(), "alert_rules", "ticker = 'ZZZQ'"), "run %d", run)
	}
	// LATER starts trading: priced, so verified, and never dropped.
	r.yahoo.SetQuote("LATER", 5, "USD", at)

	rep, err := c.Run(ctx)
	require.NoError(t, err)
	require.Empty(t, rep.PublishError)
	require.Zero(t, storetest.Count(t, r.store.DB(), "alert_rules", "ticker = 'ZZZQ'"), "dropped at the third miss")
	require.Equal(t, 1, storetest.Count(t, r.store.DB(), "alert_rules", "ticker = 'AAPL'"))
	require.Equal(t, 1, storetest.Count(t, r.store.DB(), "alert_rules", "ticker = 'DELIST'"), "verified symbols stay")
	require.Equal(t, 1, storetest.Count(t, r.store.DB(), "alert_rules", "ticker = 'LATER'"))
	require.Zero(t, storetest.Count(t, r.store.DB(), "unverified_symbols", ""), "ZZZQ dropped, LATER verified")

	var got []stockalert.AlertEvent
	for _, m := range kafkatest.Read(t, r.brokers, r.notices, 2, 30*time.Second) {
		var ev stockalert.AlertEvent
		require.NoError(t, json.Unmarshal(m.Value, &ev))
		require.Equal(t, string(ev.Email), string(m.Key))
		got = append(got, ev)
	}
	emails := []stockalert.Email{got[0].Email, got[1].Email}
	require.ElementsMatch(t, []stockalert.Email{"ann@example.com", "bob@example.com"}, emails)
	for _, ev := range got {
		require.Equal(t, stockalert.SymbolDropped, ev.Condition)
		require.Equal(t, stockalert.Ticker("ZZZQ"), ev.Ticker)
		require.NotEmpty(t, ev.EventID)
	}
	require.NotEqual(t, got[0].EventID, got[1].EventID)

	// Further runs find nothing more to drop.
	rep, err = c.Run(ctx)
	require.NoError(t, err)
	require.Equal(t, []stockalert.Ticker{"DELIST"}, rep.Unknown)
	require.Zero(t, storetest.Count(t, r.store.DB(), "outbox", ""))
}
