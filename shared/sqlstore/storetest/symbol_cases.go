package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

var symbolCases = []contractCase{
	{"SymbolKnown/a subscription or a recorded price makes a symbol known", func(t *testing.T, f *fixture) {
		for _, tk := range []stockalert.Ticker{"AAPL", "MSFT", "ZZZQ"} {
			known, err := f.store.SymbolKnown(f.ctx, tk)
			require.NoError(t, err)
			require.False(t, known, tk)
		}
		f.registerUser("ann@example.com", "AAPL", th(nil, nil))
		require.NoError(t, f.recordPrices.Handle(f.ctx, command.RecordPrices{Quotes: []stockalert.Quote{
			{Ticker: "MSFT", Price: 410, Currency: "USD", Time: f.clock.Now()}}}))
		for tk, want := range map[stockalert.Ticker]bool{"AAPL": true, "MSFT": true, "ZZZQ": false} {
			known, err := f.store.SymbolKnown(f.ctx, tk)
			require.NoError(t, err)
			require.Equal(t, want, known, tk)
		}
	}},
	{"MarkUnverified/twice keeps one row and its misses; VerifySymbols removes it", func(t *testing.T, f *fixture) {
		require.NoError(t, f.store.MarkUnverified(f.ctx, "ZZZQ"))
		gone, err := f.store.MissSymbols(f.ctx, []stockalert.Ticker{"ZZZQ", "AAPL"}, 3)
		require.NoError(t, err)
		require.Empty(t, gone)
		require.NoError(t, f.store.MarkUnverified(f.ctx, "ZZZQ"))
		got, err := f.store.UnverifiedSymbols(f.ctx)
		require.NoError(t, err)
		require.Equal(t, map[stockalert.Ticker]int{"ZZZQ": 1}, got, "AAPL is not unverified: no row made by a miss")
		require.NoError(t, f.store.VerifySymbols(f.ctx, []stockalert.Ticker{"ZZZQ"}))
		require.Zero(t, f.count("unverified_symbols", ""))
	}},
	{"TrackUnverifiedSymbols/drops at max misses with a notice per subscriber, in one transaction", func(t *testing.T, f *fixture) {
		track := command.NewTrackUnverifiedSymbolsHandler(f.store, stockalert.TopicAlerts, 2, f.clock.Now, nil, nil)
		ann := f.registerUser("ann@example.com", "ZZZQ", th(nil, nil))
		f.linkChat(ann, 77)
		f.registerUser("bob@example.com", "ZZZQ", th(f64(5), nil))
		f.registerUser("cy@example.com", "OTHER", th(nil, nil))
		require.NoError(t, f.store.MarkUnverified(f.ctx, "ZZZQ"))
		require.NoError(t, f.store.MarkUnverified(f.ctx, "OTHER"))

		unknown := command.TrackUnverifiedSymbols{Unknown: []stockalert.Ticker{"ZZZQ", "OTHER"}}
		require.NoError(t, track.Handle(f.ctx, unknown))
		require.Equal(t, 2, f.count("alert_rules", "ticker = 'ZZZQ'"), "one miss of two")
		require.NoError(t, track.Handle(f.ctx, command.TrackUnverifiedSymbols{Priced: []stockalert.Ticker{"OTHER"},
			Unknown: []stockalert.Ticker{"ZZZQ"}}))

		require.Zero(t, f.count("alert_rules", "ticker = 'ZZZQ'"))
		require.Equal(t, 1, f.count("alert_rules", "ticker = 'OTHER'"))
		require.Zero(t, f.count("unverified_symbols", ""), "ZZZQ dropped, OTHER verified")
		_, notices := outbox[stockalert.AlertEvent](f, stockalert.TopicAlerts)
		require.Len(t, notices, 2)
		for _, n := range notices {
			require.Equal(t, stockalert.SymbolDropped, n.Condition)
			require.Equal(t, stockalert.Ticker("ZZZQ"), n.Ticker)
		}
		require.ElementsMatch(t, []stockalert.Email{"ann@example.com", "bob@example.com"}, emails(notices))
		for _, n := range notices {
			if n.Email == "ann@example.com" {
				require.NotNil(t, n.TelegramChatID)
				require.Equal(t, int64(77), *n.TelegramChatID)
			}
		}
	}},
}
