package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/functions/stock-queries/stockqueriesapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// TestSmoke runs the function as main does, on a free loopback port over a fresh store (SQLite, or a
// scratch MySQL database when MYSQL_DSN is set), and queries a user's latest price through it.
func TestSmoke(t *testing.T) {
	t.Parallel()
	env := faastest.Env(t, nil, nil)
	base := faastest.Run(t, stockqueriesapp.Name, stockqueriesapp.Wire, env)

	// Another process (user-commands, data-collector) writes what this one reads.
	ctx := context.Background()
	store := faastest.Store(t, env)
	token := stockalert.NewSecret()
	if err := command.NewRegisterUserHandler(store, nil, nil).Handle(ctx, command.RegisterUser{
		Email: "smoke@example.com", Ticker: "AAPL", TokenHash: stockalert.HashSecret(token),
		LinkCodeHash: stockalert.HashSecret(stockalert.NewSecret()),
	}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	if err := command.NewRecordPricesHandler(store, stockalert.TopicPrices, nil, nil).Handle(ctx, command.RecordPrices{Quotes: []stockalert.Quote{
		{Ticker: "AAPL", Price: 187.25, Currency: "USD", Time: at},
	}}); err != nil {
		t.Fatal(err)
	}

	status, body := faastest.Call(t, "GET", base+"/users/smoke@example.com/latest?ticker=AAPL", "", faastest.Bearer(token))
	// Months before the test runs: older than QUOTE_MAX_AGE's default of 7 days, so flagged stale.
	if want := `{"ticker":"AAPL","price":187.25,"currency":"USD","time":"2026-03-02T15:00:00Z","stale":true}` + "\n"; status != http.StatusOK || body != want {
		t.Fatalf("GET latest = %d %s, want 200 %s", status, body, want)
	}
	if status, body := faastest.Call(t, "GET", base+"/users/smoke@example.com", "", faastest.Bearer("wrong")); status != http.StatusUnauthorized {
		t.Fatalf("GET with a wrong token = %d %s", status, body)
	}
	_, metrics := faastest.Call(t, "GET", base+"/metrics", "", nil)
	for _, want := range []string{
		`faas_http_requests_total{code="200",function="stock-queries",method="get",route="GET /users/{email}/latest"} 1`,
		`stockalert_usecase_duration_seconds_count{kind="query",name="LatestPrice",outcome="ok"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
