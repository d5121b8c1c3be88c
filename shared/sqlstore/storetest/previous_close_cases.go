package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// previousCloseCases: a quote's previous close is recorded with it (NULL when unknown), read back by
// every reader of latest prices, and carried by its price event with the day change.
var previousCloseCases = []contractCase{
	{"Prices/previous close round trip: recorded, read back by LatestPrice and ChatProfile, 0 when unknown", func(t *testing.T, f *fixture) {
		r := f.registerUser("pat@example.com", "AAPL", th(nil, nil))
		require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "VOD.L"}))
		require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "MSFT"}))
		f.linkChat(r, 91)
		t0 := f.clock.Now().Add(-time.Minute)
		aapl := quote("AAPL", 201.3, t0)
		aapl.PreviousClose = 198.81
		vod := stockalert.Quote{Ticker: "VOD.L", Price: 72.5, Currency: "GBp", Time: t0, PreviousClose: 74.02}
		f.recordQuotes(aapl, vod, quote("MSFT", 410.25, t0))

		require.Equal(t, 2, f.count("prices", "previous_close IS NOT NULL"))
		require.Equal(t, 1, f.count("prices", "previous_close IS NULL AND ticker = ?", "MSFT"), "unknown is stored as NULL, not 0")

		p, err := f.latest.Handle(f.ctx, query.LatestPrice{Email: r.email, Ticker: "AAPL"})
		require.NoError(t, err)
		require.Equal(t, 198.81, p.PreviousClose)
		change, known := p.DayChange()
		require.True(t, known)
		require.InDelta(t, 2.49, change, 1e-9)
		pct, known := p.DayChangePercent()
		require.True(t, known)
		require.InDelta(t, 1.2524521, pct, 1e-6)

		p, err = f.latest.Handle(f.ctx, query.LatestPrice{Email: r.email, Ticker: "MSFT"})
		require.NoError(t, err)
		require.Zero(t, p.PreviousClose)
		_, known = p.DayChange()
		require.False(t, known)

		st, err := f.chatProfile.Handle(f.ctx, query.ChatProfile{ChatID: 91})
		require.NoError(t, err)
		require.Equal(t, 198.81, st.Prices["AAPL"].PreviousClose)
		require.Equal(t, 74.02, st.Prices["VOD.L"].PreviousClose)
		require.Equal(t, "GBp", st.Prices["VOD.L"].Currency)
		require.Zero(t, st.Prices["MSFT"].PreviousClose)

		// A later quote without a previous close does not inherit the earlier one.
		f.recordQuotes(quote("AAPL", 202, t0.Add(time.Second)))
		require.Zero(t, f.latestPrice("AAPL").PreviousClose)
	}},
	{"RecordPrices/the price event carries previous close and day change when known, omits them when not", func(t *testing.T, f *fixture) {
		t0 := f.clock.Now()
		aapl := quote("AAPL", 201.3, t0)
		aapl.PreviousClose = 198.81
		f.recordQuotes(aapl, quote("MSFT", 410.25, t0))
		msgs, evs := outbox[stockalert.PriceEvent](f, stockalert.TopicPrices)
		require.Len(t, evs, 2)
		byTicker := map[stockalert.Ticker]int{}
		for i, e := range evs {
			byTicker[e.Ticker] = i
		}

		e := evs[byTicker["AAPL"]]
		require.Equal(t, 198.81, e.PreviousClose)
		require.NotNil(t, e.DayChange)
		require.InDelta(t, 2.49, *e.DayChange, 1e-9)
		require.NotNil(t, e.DayChangePercent)
		require.InDelta(t, 1.2524521, *e.DayChangePercent, 1e-6)
		require.Equal(t, 198.81, e.Quote().PreviousClose)

		var raw map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(msgs[byTicker["MSFT"]].Value, &raw))
		for _, k := range []string{"previous_close", "day_change", "day_change_percent"} {
			require.NotContains(t, raw, k, "unknown previous close: %s is left out", k)
		}
		require.Contains(t, raw, "price")
	}},
}
