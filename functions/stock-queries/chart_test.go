package main

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"testing"

	"github.com/stockalert/stockalert/functions/stock-queries/stockqueriesapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// The shipped wiring serves charts: with the simulated source, GET …/chart answers a PNG.
func TestChartThroughTheFunction(t *testing.T) {
	t.Parallel()
	env := faastest.Env(t, nil, map[string]string{"QUOTE_SOURCE": "simulated", "CHART_CACHE_TTL": "10s"})
	base := faastest.Run(t, stockqueriesapp.Name, stockqueriesapp.Wire, env)
	store := faastest.Store(t, env)
	token := stockalert.NewSecret()
	if err := command.NewRegisterUserHandler(store, nil, nil).Handle(context.Background(), command.RegisterUser{
		Email: "chart@example.com", Ticker: "AAPL", TokenHash: stockalert.HashSecret(token),
		LinkCodeHash: stockalert.HashSecret(stockalert.NewSecret()),
	}); err != nil {
		t.Fatal(err)
	}
	status, body := faastest.Call(t, "GET", base+"/users/chart@example.com/chart?ticker=AAPL&range=6mo", "", faastest.Bearer(token))
	if status != http.StatusOK {
		t.Fatalf("GET chart = %d %s", status, body)
	}
	if _, err := png.Decode(bytes.NewReader([]byte(body))); err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	if status, body := faastest.Call(t, "GET", base+"/users/chart@example.com/chart?ticker=AAPL&range=10y", "", faastest.Bearer(token)); status != http.StatusBadRequest {
		t.Fatalf("GET chart with range=10y = %d %s, want 400", status, body)
	}
}
