package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

func TestProfile(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"kim@example.com","ticker":"MSFT","low_value":300}`)
	require.Equal(t, http.StatusOK, a.cmd(req{method: "PUT", path: "/users/kim@example.com/tickers/AAPL", token: reg.Token,
		body: `{"high_value":250}`}).status)
	a.quote("AAPL", 251, a.clock.Now())
	// The alert system's view of a breach, to see last_alerted_at and alert_state in the profile.
	_, err := a.store.DB().Exec(`UPDATE alert_rules SET alert_state = 'above', last_alerted_at = ? WHERE ticker = 'AAPL'`,
		a.clock.Now().Add(90*time.Second).UnixMilli())
	require.NoError(t, err)

	res := a.query(req{method: "GET", path: "/users/kim@example.com", token: reg.Token})
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Equal(t, `{"email":"kim@example.com","telegram_linked":false,"notify_interval_seconds":3600,"paused":false,`+created+
		`,"subscriptions":[`+
		`{"ticker":"AAPL","high_value":250,"low_value":null,"alert_state":"above","last_alerted_at":"2026-03-02T14:31:30Z"},`+
		`{"ticker":"MSFT","high_value":null,"low_value":300,"alert_state":"armed"}]}`+"\n", res.body)

	t.Run("a user without subscriptions has an empty list", func(t *testing.T) {
		for _, ticker := range []string{"AAPL", "MSFT"} {
			require.Equal(t, http.StatusNoContent, a.cmd(req{method: "DELETE", path: "/users/kim@example.com/tickers/" + ticker,
				token: reg.Token}).status)
		}
		res := a.query(req{method: "GET", path: "/users/kim@example.com", token: reg.Token})
		require.Contains(t, res.body, `"subscriptions":[]}`)
	})
	t.Run("parameters are refused", func(t *testing.T) {
		requireError(t, a.query(req{method: "GET", path: "/users/kim@example.com?verbose=1", token: reg.Token}),
			http.StatusBadRequest, "verbose")
	})
}

func TestLatestAndAverage(t *testing.T) {
	a := newAPI(t, storetest.Open)
	one := a.register(`{"email":"lee@example.com","ticker":"AAPL"}`)
	two := a.register(`{"email":"max@example.com","ticker":"AAPL"}`)
	require.Equal(t, http.StatusOK, a.cmd(req{method: "PUT", path: "/users/max@example.com/tickers/MSFT", token: two.Token,
		body: `{}`}).status)
	t0 := a.clock.Now()
	a.quote("AAPL", 100, t0)
	a.quote("AAPL", 110, t0.Add(time.Minute))
	a.quote("AAPL", 121.5, t0.Add(2*time.Minute))
	a.quote("MSFT", 400.25, t0.Add(30*time.Second))
	get := func(token, path string) resp {
		t.Helper()
		return a.query(req{method: "GET", path: path, token: token})
	}

	for _, tc := range []struct {
		name, token, path, want string
	}{
		{"latest of every ticker of a one-ticker user", one.Token, "/users/lee@example.com/latest",
			`{"prices":[{"ticker":"AAPL","price":121.5,"currency":"USD","time":"2026-03-02T14:32:00Z","stale":false}],"unpriced":[]}`},
		{"latest of every ticker of a user with several", two.Token, "/users/max@example.com/latest",
			`{"prices":[{"ticker":"AAPL","price":121.5,"currency":"USD","time":"2026-03-02T14:32:00Z","stale":false},` +
				`{"ticker":"MSFT","price":400.25,"currency":"USD","time":"2026-03-02T14:30:30Z","stale":false}],"unpriced":[]}`},
		{"latest of a named ticker, any case", two.Token, "/users/max@example.com/latest?ticker=msft",
			`{"ticker":"MSFT","price":400.25,"currency":"USD","time":"2026-03-02T14:30:30Z","stale":false}`},
		{"latest of a ticker the user does not watch", one.Token, "/users/lee@example.com/latest?ticker=MSFT",
			`{"ticker":"MSFT","price":400.25,"currency":"USD","time":"2026-03-02T14:30:30Z","stale":false}`},
		{"average of the last two", one.Token, "/users/lee@example.com/average?count=2",
			`{"ticker":"AAPL","average":115.75,"count":2}`},
		{"average of more than recorded", two.Token, "/users/max@example.com/average?count=10&ticker=AAPL",
			`{"ticker":"AAPL","average":110.5,"count":3}`},
		{"average at the bound", one.Token, "/users/lee@example.com/average?count=10000",
			`{"ticker":"AAPL","average":110.5,"count":3}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := get(tc.token, tc.path)
			require.Equal(t, http.StatusOK, res.status, res.body)
			require.Equal(t, tc.want+"\n", res.body)
		})
	}

	for _, tc := range []struct {
		name, token, path string
		status            int
		field             string
	}{
		{"an empty ticker", two.Token, "/users/max@example.com/latest?ticker=", http.StatusBadRequest, "ticker"},
		{"bad ticker", one.Token, "/users/lee@example.com/latest?ticker=%24%24", http.StatusBadRequest, "ticker"},
		{"no price recorded", one.Token, "/users/lee@example.com/latest?ticker=NVDA", http.StatusNotFound, ""},
		{"unknown parameter", one.Token, "/users/lee@example.com/latest?tick=AAPL", http.StatusBadRequest, "tick"},
		{"parameter twice", one.Token, "/users/lee@example.com/latest?ticker=AAPL&ticker=MSFT", http.StatusBadRequest, "ticker"},
		{"malformed query", one.Token, "/users/lee@example.com/latest?ticker=%zz", http.StatusBadRequest, "query"},
		{"average without count", one.Token, "/users/lee@example.com/average", http.StatusBadRequest, "count"},
		{"average of 0", one.Token, "/users/lee@example.com/average?count=0", http.StatusBadRequest, "count"},
		{"average of -3", one.Token, "/users/lee@example.com/average?count=-3", http.StatusBadRequest, "count"},
		{"average over the bound", one.Token, "/users/lee@example.com/average?count=10001", http.StatusBadRequest, "count"},
		{"average of a fraction", one.Token, "/users/lee@example.com/average?count=2.5", http.StatusBadRequest, "count"},
		{"average of a word", one.Token, "/users/lee@example.com/average?count=all", http.StatusBadRequest, "count"},
		{"average of a huge number", one.Token, "/users/lee@example.com/average?count=99999999999999999999", http.StatusBadRequest, "count"},
		{"average with several tickers", two.Token, "/users/max@example.com/average?count=2", http.StatusBadRequest, "ticker"},
		{"average with no price", one.Token, "/users/lee@example.com/average?count=2&ticker=NVDA", http.StatusNotFound, ""},
		{"no such query", one.Token, "/users/lee@example.com/median", http.StatusNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireError(t, get(tc.token, tc.path), tc.status, tc.field)
		})
	}
	require.Equal(t, 10_000, query.MaxAverageCount, "the bound the cases above test")
}

// A simulated price (QUOTE_SOURCE=simulated) is marked as such, and once real quotes arrive the average
// leaves the simulated ones out.
func TestSimulatedPricesAreMarked(t *testing.T) {
	a := newAPI(t, storetest.Open)
	u := a.register(`{"email":"sim@example.com","ticker":"AAPL"}`)
	t0 := a.clock.Now()
	require.NoError(t, a.recordPrices.Handle(context.Background(), command.RecordPrices{Quotes: []stockalert.Quote{
		{Ticker: "AAPL", Price: 36.73, Currency: "USD", Time: t0, Source: stockalert.QuoteSourceSimulated},
	}}))
	get := func(path string) string {
		t.Helper()
		res := a.query(req{method: "GET", path: path, token: u.Token})
		require.Equal(t, http.StatusOK, res.status, res.body)
		return res.body
	}
	require.JSONEq(t, `{"ticker":"AAPL","price":36.73,"currency":"USD","time":"2026-03-02T14:30:00Z","stale":false,"simulated":true}`,
		get("/users/sim@example.com/latest?ticker=AAPL"))
	require.JSONEq(t, `{"prices":[{"ticker":"AAPL","price":36.73,"currency":"USD","time":"2026-03-02T14:30:00Z","stale":false,"simulated":true}],"unpriced":[]}`,
		get("/users/sim@example.com/latest"))
	require.JSONEq(t, `{"ticker":"AAPL","average":36.73,"count":1,"simulated":true}`, get("/users/sim@example.com/average?count=5"))

	a.quote("AAPL", 270, t0.Add(time.Minute))
	require.JSONEq(t, `{"ticker":"AAPL","price":270,"currency":"USD","time":"2026-03-02T14:31:00Z","stale":false}`,
		get("/users/sim@example.com/latest?ticker=AAPL"))
	require.JSONEq(t, `{"ticker":"AAPL","average":270,"count":1}`, get("/users/sim@example.com/average?count=5"))
}

// The latest price shows the day change when the quote source gave a previous close, and leaves the
// three fields out when it did not.
func TestLatestShowsTheDayChangeWhenKnown(t *testing.T) {
	a := newAPI(t, storetest.Open)
	u := a.register(`{"email":"dee@example.com","ticker":"AAPL"}`)
	t0 := a.clock.Now()
	record := func(q stockalert.Quote) {
		t.Helper()
		require.NoError(t, a.recordPrices.Handle(context.Background(), command.RecordPrices{Quotes: []stockalert.Quote{q}}))
	}
	get := func(path string) string {
		t.Helper()
		res := a.query(req{method: "GET", path: path, token: u.Token})
		require.Equal(t, http.StatusOK, res.status, res.body)
		return res.body
	}
	record(stockalert.Quote{Ticker: "AAPL", Price: 201.3, Currency: "USD", Time: t0, PreviousClose: 198.81})
	require.Equal(t, `{"ticker":"AAPL","price":201.3,"currency":"USD","previous_close":198.81,"day_change":2.49,`+
		`"day_change_percent":1.2525,"time":"2026-03-02T14:30:00Z","stale":false}`+"\n", get("/users/dee@example.com/latest?ticker=AAPL"))

	record(stockalert.Quote{Ticker: "VOD.L", Price: 72.5, Currency: "GBp", Time: t0, PreviousClose: 74.02})
	require.JSONEq(t, `{"ticker":"VOD.L","price":72.5,"currency":"GBp","previous_close":74.02,"day_change":-1.52,`+
		`"day_change_percent":-2.0535,"time":"2026-03-02T14:30:00Z","stale":false}`, get("/users/dee@example.com/latest?ticker=VOD.L"))

	record(stockalert.Quote{Ticker: "AAPL", Price: 202, Currency: "USD", Time: t0.Add(time.Minute)})
	require.Equal(t, `{"ticker":"AAPL","price":202,"currency":"USD","time":"2026-03-02T14:31:00Z","stale":false}`+"\n",
		get("/users/dee@example.com/latest?ticker=AAPL"), "no previous close with the latest quote: the day change is unknown")
}
