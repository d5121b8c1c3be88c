package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Yahoo's symbols hold letters, digits and . - = ^ & (NSE: M&M.NS): every form of the API takes them.
func TestSymbolsWithYahoosWholeAlphabet(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"ravi@example.com","ticker":"M&M.NS","high_value":3200}`)
	for _, sym := range []string{"L&TFH.NS", "ES=F", "^GSPC", "BRK-B", "7203.T", "j&kbank.ns"} {
		res := a.cmd(req{method: "PUT", path: "/users/ravi@example.com/tickers/" + url.PathEscape(sym), token: reg.Token, body: `{}`})
		require.Equal(t, http.StatusOK, res.status, "%s: %s", sym, res.body)
	}
	res := a.query(req{method: "GET", path: "/users/ravi@example.com", token: reg.Token})
	require.Equal(t, http.StatusOK, res.status, res.body)
	var profile struct {
		Subscriptions []struct {
			Ticker string `json:"ticker"`
		} `json:"subscriptions"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.body), &profile))
	var got []string
	for _, s := range profile.Subscriptions {
		got = append(got, s.Ticker)
	}
	require.ElementsMatch(t, []string{"M&M.NS", "L&TFH.NS", "ES=F", "^GSPC", "BRK-B", "7203.T", "J&KBANK.NS"}, got)

	a.quote("M&M.NS", 3120.4, a.clock.Now())
	res = a.query(req{method: "GET", path: "/users/ravi@example.com/latest?ticker=" + url.QueryEscape("M&M.NS"), token: reg.Token})
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, `"ticker":"M\u0026M.NS"`, "JSON escapes & but the symbol is whole")
	require.Equal(t, http.StatusNoContent, a.cmd(req{method: "DELETE", path: "/users/ravi@example.com/tickers/M%26M.NS", token: reg.Token}).status)
}

// Anything outside the alphabet is refused with a 400 naming "ticker", wherever it comes from (body,
// path segment, query), and changes nothing.
func TestHostileSymbolsAreRefused(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"eve@example.com","ticker":"AAPL"}`)
	users, subs := a.count("users"), a.count("alert_rules")

	for _, bad := range []string{"../AAPL", "AAPL/../MSFT", "AAPL?x=1", "AAPL#frag", "AAPL%2F", "%2e%2e", "AA PL", " AAPL B",
		"ÄAPL", "AAPL\u202e", "ＡＡＰＬ", "AAPL\x00", "AAPL\\", "AAPL;DROP", "&AAPL", "AAPL+B"} {
		body, err := json.Marshal(map[string]any{"email": "mal@example.com", "ticker": bad})
		require.NoError(t, err)
		requireError(t, a.cmd(req{method: "POST", path: "/users", body: string(body)}), http.StatusBadRequest, "ticker")
		requireError(t, a.cmd(req{method: "PATCH", path: "/users/eve@example.com", token: reg.Token,
			body: `{"ticker":` + string(mustMarshal(t, bad)) + `}`}), http.StatusBadRequest, "ticker")
		requireError(t, a.query(req{method: "GET", path: "/users/eve@example.com/latest?ticker=" + url.QueryEscape(bad), token: reg.Token}),
			http.StatusBadRequest, "ticker")
		if bad == "../AAPL" || bad == "AAPL/../MSFT" || bad == "%2e%2e" {
			continue // as a path segment these are not clean paths: 404 (router), tested elsewhere
		}
		requireError(t, a.cmd(req{method: "PUT", path: "/users/eve@example.com/tickers/" + url.PathEscape(bad), token: reg.Token, body: `{}`}),
			http.StatusBadRequest, "ticker")
	}
	require.Equal(t, users, a.count("users"), "no user registered")
	require.Equal(t, subs, a.count("alert_rules"), "no subscription changed")
	res := a.query(req{method: "GET", path: "/users/eve@example.com", token: reg.Token})
	require.Contains(t, res.body, `"subscriptions":[{"ticker":"AAPL"`)
}

// GET …/latest shows the currency exactly as the quote carried it (GBp is pence: 100× less than GBP)
// and flags a price older than the readers' Freshness as stale.
func TestLatestKeepsTheCurrencyAndFlagsStalePrices(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"liz@example.com","ticker":"VOD.L","high_value":80}`)
	require.Equal(t, http.StatusOK, a.cmd(req{method: "PUT", path: "/users/liz@example.com/tickers/OLD.L", token: reg.Token, body: `{}`}).status)
	now := a.clock.Now()
	require.NoError(t, a.recordPrices.Handle(context.Background(), command.RecordPrices{Quotes: []stockalert.Quote{
		{Ticker: "VOD.L", Price: 72.5, Currency: "GBp", Time: now.Add(-time.Minute)},
		{Ticker: "OLD.L", Price: 12.3, Currency: "GBp", Time: now.AddDate(0, -5, 0)},
	}}))
	latest := func(ticker string) string {
		t.Helper()
		res := a.query(req{method: "GET", path: "/users/liz@example.com/latest?ticker=" + ticker, token: reg.Token})
		require.Equal(t, http.StatusOK, res.status, res.body)
		return res.body
	}
	require.Equal(t, `{"ticker":"VOD.L","price":72.5,"currency":"GBp","time":"2026-03-02T14:29:00Z","stale":false}`+"\n", latest("VOD.L"))
	require.Equal(t, `{"ticker":"OLD.L","price":12.3,"currency":"GBp","time":"2025-10-02T14:30:00Z","stale":true}`+"\n", latest("OLD.L"))

	// Eight days without a trade (past the 7-day default): stale.
	a.clock.Advance(8 * 24 * time.Hour)
	require.Contains(t, latest("VOD.L"), `"currency":"GBp","time":"2026-03-02T14:29:00Z","stale":true}`)
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
