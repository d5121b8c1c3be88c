package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// quoteCases: what the store keeps of a quote exactly as the source gave it (the currency code's case,
// the symbol's whole alphabet), and stale quotes.
var quoteCases = []contractCase{
	{"Prices/keep the currency code exactly as quoted (GBp is not GBP)", func(t *testing.T, f *fixture) {
		t0 := f.clock.Now()
		want := map[stockalert.Ticker]string{"VOD.L": "GBp", "NPN.JO": "ZAc", "TEVA.TA": "ILA", "III.L": "GBP", "AAPL": "USD"}
		var qs []stockalert.Quote
		for tk, cur := range want {
			qs = append(qs, stockalert.Quote{Ticker: tk, Price: 72.5, Currency: cur, Time: t0})
		}
		f.recordQuotes(qs...)
		for tk, cur := range want {
			require.Equal(t, cur, f.latestPrice(string(tk)).Currency, "%s", tk)
		}
		tickers := make([]stockalert.Ticker, 0, len(want))
		for tk := range want {
			tickers = append(tickers, tk)
		}
		prices, err := f.store.LatestPrices(f.ctx, tickers)
		require.NoError(t, err)
		for tk, cur := range want {
			require.Equal(t, cur, prices[tk].Currency, "%s", tk)
		}
		for _, e := range events[stockalert.PriceEvent](f, stockalert.TopicPrices) {
			require.Equal(t, want[e.Ticker], e.Currency, "event of %s", e.Ticker)
		}
		// The column compares exactly on every dialect (MySQL: utf8mb4_bin; SQLite: BINARY), so a
		// comparison or grouping by currency never merges pence with pounds.
		require.Equal(t, 1, f.count("prices", "currency = ?", "GBP"))
		require.Equal(t, 1, f.count("prices", "currency = ?", "GBp"))
		require.Zero(t, f.count("prices", "currency = ?", "gbp"))
	}},
	{"Prices/symbols with & ^ = round-trip", func(t *testing.T, f *fixture) {
		r := f.registerUser("ravi@example.com", "M&M.NS", th(f64(3200), nil))
		for _, tk := range []string{"^GSPC", "ES=F"} {
			require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: tk}))
		}
		t0 := f.clock.Now()
		f.recordQuotes(stockalert.Quote{Ticker: "M&M.NS", Price: 3120.4, Currency: "INR", Time: t0},
			quote("^GSPC", 5638.94, t0), quote("ES=F", 5650.25, t0))
		require.ElementsMatch(t, []stockalert.Ticker{"M&M.NS", "^GSPC", "ES=F"}, f.mustProfile(r.email).Tickers())
		p, err := f.latest.Handle(f.ctx, query.LatestPrice{Email: r.email, Ticker: "m&m.ns"})
		require.NoError(t, err)
		require.Equal(t, query.Price{Ticker: "M&M.NS", Price: 3120.4, Currency: "INR", Time: t0}, p)
		tickers, err := f.tickers.Handle(f.ctx, query.DistinctTickers{})
		require.NoError(t, err)
		require.ElementsMatch(t, []stockalert.Ticker{"M&M.NS", "^GSPC", "ES=F"}, tickers)
	}},
	{"RecordPrices/stale quotes are recorded but queue no event", func(t *testing.T, f *fixture) {
		t0 := f.clock.Now()
		old := t0.AddDate(0, -5, 0)
		require.NoError(t, f.recordPrices.Handle(f.ctx, command.RecordPrices{
			Quotes: []stockalert.Quote{quote("AAPL", 190, t0), quote("GONE", 3, old)},
			Stale:  []stockalert.Quote{quote("OLD", 12.3, old), quote("GONE", 3, old)},
		}))
		require.Equal(t, 3, f.count("prices", ""), "every quote is recorded once")
		evs := events[stockalert.PriceEvent](f, stockalert.TopicPrices)
		require.Len(t, evs, 1, "a quote given as stale, even twice, announces nothing")
		require.Equal(t, stockalert.Ticker("AAPL"), evs[0].Ticker)
		require.Equal(t, 12.3, f.latestPrice("OLD").Price)

		err := f.recordPrices.Handle(f.ctx, command.RecordPrices{Stale: []stockalert.Quote{quote("NEW", 0, old)}})
		requireField(t, err, "stale[0].price")
		require.Equal(t, 3, f.count("prices", ""))
	}},
	{"LatestPrice and ChatProfile/flag a price older than the max quote age", func(t *testing.T, f *fixture) {
		r := f.registerUser("liz@example.com", "VOD.L", th(nil, nil))
		require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "OLD.L"}))
		f.linkChat(r, 77)
		t0 := f.clock.Now()
		f.recordQuotes(stockalert.Quote{Ticker: "VOD.L", Price: 72.5, Currency: "GBp", Time: t0.Add(-time.Minute)},
			stockalert.Quote{Ticker: "OLD.L", Price: 12.3, Currency: "GBp", Time: t0.Add(-stockalert.DefaultMaxQuoteAge - time.Second)})
		p, err := f.latest.Handle(f.ctx, query.LatestPrice{Email: r.email, Ticker: "VOD.L"})
		require.NoError(t, err)
		require.False(t, p.Stale)
		p, err = f.latest.Handle(f.ctx, query.LatestPrice{Email: r.email, Ticker: "OLD.L"})
		require.NoError(t, err)
		require.True(t, p.Stale)
		st, err := f.chatProfile.Handle(f.ctx, query.ChatProfile{ChatID: 77})
		require.NoError(t, err)
		require.False(t, st.Prices["VOD.L"].Stale)
		require.True(t, st.Prices["OLD.L"].Stale)
		require.Equal(t, "GBp", st.Prices["OLD.L"].Currency)

		f.clock.Advance(stockalert.DefaultMaxQuoteAge)
		p, err = f.latest.Handle(f.ctx, query.LatestPrice{Email: r.email, Ticker: "VOD.L"})
		require.NoError(t, err)
		require.True(t, p.Stale, "a week without a trade")
	}},
}
