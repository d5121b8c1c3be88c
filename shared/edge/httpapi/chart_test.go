package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/chart"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// setHistory gives ticker 17 bars over rng around the store's clock, rising from 90 to 106.
func (a *api) setHistory(ticker, rng string) {
	t0 := a.clock.Now().Add(-2 * time.Hour)
	bars := make([]yahootest.Bar, 17)
	for i := range bars {
		v := 90 + float64(i)
		bars[i] = yahootest.Bar{Time: t0.Add(time.Duration(i) * 15 * time.Minute), Close: &v}
	}
	a.yahoo.SetHistory(ticker, rng, "USD", bars)
}

func decodePNG(t *testing.T, body string) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, chart.Width, chart.Height), img.Bounds())
	return img
}

// redPixels counts the alert markers' colour.
func redPixels(img image.Image) int {
	n := 0
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 == 0xd0 && g>>8 == 0x21 && b>>8 == 0x21 {
				n++
			}
		}
	}
	return n
}

func TestChartAnswersAPNGWithTheUsersAlerts(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"cat@example.com","ticker":"AAPL","high_value":100}`)
	a.setHistory("AAPL", "5d")
	get := func(path string) resp {
		t.Helper()
		return a.query(req{method: "GET", path: path, token: reg.Token})
	}

	r := get("/users/cat@example.com/chart?ticker=aapl&range=5d")
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, "image/png", r.header.Get("Content-Type"))
	require.Zero(t, redPixels(decodePNG(t, r.body)), "no alert yet")

	var uid int64
	require.NoError(t, a.store.DB().QueryRowContext(context.Background(), `SELECT id FROM users WHERE email = 'cat@example.com'`).Scan(&uid))
	ev := stockalert.AlertEvent{EventID: "ev-1", Ticker: "AAPL", Condition: stockalert.Above, Price: 101, Currency: "USD",
		Threshold: 100, Time: a.clock.Now(), RuleID: "1", Kind: stockalert.KindRange}
	require.NoError(t, a.store.InTx(context.Background(), func(ctx context.Context) error {
		return a.store.RecordAlerts(ctx, []command.RaisedAlert{{UserID: uid, RuleID: 1, Event: ev}})
	}))
	a.setHistory("AAPL", "1mo")
	r = get("/users/cat@example.com/chart?ticker=AAPL&range=1mo")
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Positive(t, redPixels(decodePNG(t, r.body)), "the alert that fired is marked")
}

func TestChartRefusesBadInputAndSaysWhenThereIsNoHistory(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"cat@example.com","ticker":"AAPL","high_value":100}`)
	get := func(path string) resp {
		t.Helper()
		return a.query(req{method: "GET", path: path, token: reg.Token})
	}
	for path, field := range map[string]string{
		"/users/cat@example.com/chart":                         "ticker",
		"/users/cat@example.com/chart?ticker=A/B":              "ticker",
		"/users/cat@example.com/chart?ticker=AAPL&range=2w":    "range",
		"/users/cat@example.com/chart?ticker=AAPL&interval=1m": "interval",
	} {
		r := get(path)
		require.Equal(t, http.StatusBadRequest, r.status, path)
		require.JSONEq(t, `"`+field+`"`, jsonField(t, r.body, "field"), path)
	}
	require.Zero(t, a.yahoo.Requests(""), "bad input asks nothing")

	r := get("/users/cat@example.com/chart?ticker=NOPE")
	require.Equal(t, http.StatusNotFound, r.status)
	require.JSONEq(t, `{"error":"no price history of NOPE"}`, r.body)

	r = a.query(req{method: "GET", path: "/users/cat@example.com/chart?ticker=AAPL", token: "wrong"})
	require.Equal(t, http.StatusUnauthorized, r.status)

	// Yahoo down: 503 in plain words, never the error chain.
	a.yahoo.Fail("", http.StatusInternalServerError, 5)
	r = get("/users/cat@example.com/chart?ticker=MSFT")
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Equal(t, "60", r.header.Get("Retry-After"))
	require.JSONEq(t, `{"error":"price history is unavailable right now: the quote source cannot be reached; try again in a minute"}`, r.body)
}

// jsonField returns the raw JSON of body's field name.
func jsonField(t *testing.T, body, name string) string {
	t.Helper()
	var obj map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(body), &obj), body)
	return string(obj[name])
}

// greyPixels counts the level lines' colour.
func greyPixels(img image.Image) int {
	n := 0
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 == 0x6a && g>>8 == 0x6a && b>>8 == 0x6a {
				n++
			}
		}
	}
	return n
}

// The user's levels on the ticker are drawn: a user with a range rule and an above rule gets more of
// the levels' grey than one with no rule, on the same history.
func TestChartDrawsTheUsersLevels(t *testing.T) {
	a := newAPI(t, storetest.Open)
	with := a.register(`{"email":"lev@example.com","ticker":"AAPL","high_value":104,"low_value":92}`)
	without := a.register(`{"email":"bare@example.com"}`)
	a.setHistory("AAPL", "1d")
	r := a.cmd(req{method: "POST", path: "/users/lev@example.com/alerts", token: with.Token,
		body: `{"ticker":"AAPL","kind":"above","level":98}`})
	require.Equal(t, http.StatusCreated, r.status, r.body)

	r = a.query(req{method: "GET", path: "/users/lev@example.com/chart?ticker=AAPL", token: with.Token})
	require.Equal(t, http.StatusOK, r.status, r.body)
	levels := greyPixels(decodePNG(t, r.body))
	r = a.query(req{method: "GET", path: "/users/bare@example.com/chart?ticker=AAPL", token: without.Token})
	require.Equal(t, http.StatusOK, r.status, r.body)
	bare := greyPixels(decodePNG(t, r.body))
	require.Greater(t, levels, bare+300, "dashed level lines across the plot")
	require.Equal(t, 1, a.yahoo.Requests("AAPL"), "the second chart read the cache")
}
