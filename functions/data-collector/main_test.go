package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/data-collector/datacollectorapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// TestSmoke runs the function as main does, with the fake Yahoo and an embedded broker (the topic names
// are the production ones, so never a shared one), and triggers one run as the cron connector would.
func TestSmoke(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	quotes.SetQuote("AAPL", 190.5, "USD", time.Now().Add(-time.Minute))
	// A renamed symbol still answering with its last trade of five months ago: recorded, not announced.
	quotes.SetQuote("OLD.L", 12.3, "GBp", time.Now().AddDate(0, -5, 0))
	brokers := kafkatest.Embedded(t)
	env := faastest.Env(t, nil, map[string]string{
		"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL(), "KAFKA_BROKERS": strings.Join(brokers, ","),
	})
	// A subscriber, written by another process (user-commands) in the same store.
	ctx := context.Background()
	store := faastest.Store(t, env)
	require.NoError(t, command.NewRegisterUserHandler(store, nil, nil).Handle(ctx, command.RegisterUser{
		Email: "smoke@example.com", Ticker: "AAPL", TokenHash: stockalert.HashSecret("t"), LinkCodeHash: stockalert.HashSecret("c")}))
	require.NoError(t, command.NewSubscribeHandler(store, nil, nil).Handle(ctx, command.Subscribe{Email: "smoke@example.com", Ticker: "OLD.L"}))

	base := faastest.Run(t, datacollectorapp.Name, datacollectorapp.Wire, env)
	status, body := faastest.Call(t, http.MethodPost, base+"/", "", http.Header{"X-Connector": {"cron-connector"}})
	require.Equal(t, http.StatusOK, status, body)
	var rep struct {
		Tickers, Quoted int
		Stale           []string
		Breaker         string
		PublishError    string `json:"publish_error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &rep))
	require.Equal(t, 2, rep.Tickers)
	require.Equal(t, 2, rep.Quoted)
	require.Equal(t, []string{"OLD.L"}, rep.Stale, "QUOTE_MAX_AGE's default (7 days) applies")
	require.Equal(t, "closed", rep.Breaker)
	require.Empty(t, rep.PublishError, "the event reached Kafka")
	msgs := kafkatest.Read(t, brokers, stockalert.TopicPrices, 1, 30*time.Second)
	require.Contains(t, string(msgs[0].Value), `"ticker":"AAPL"`)
	_, metrics := faastest.Call(t, http.MethodGet, base+"/metrics", "", nil)
	require.Contains(t, metrics, `stockalert_collector_quotes_total{outcome="stale"} 1`)
	require.Contains(t, metrics, `stockalert_collector_quotes_total{outcome="ok"} 1`)
	require.Equal(t, 1, storetest.Count(t, store.DB(), "prices", "ticker = 'OLD.L' AND currency = 'GBp'"), "it is recorded as the last trade")
}

func TestRefusesAnUnknownQuoteSource(t *testing.T) {
	t.Parallel()
	env := faastest.Env(t, nil, map[string]string{"QUOTE_SOURCE": "bloomberg", "KAFKA_BROKERS": "127.0.0.1:1"})
	err := faas.RunEnv(context.Background(), datacollectorapp.Name, datacollectorapp.Wire, env)
	require.ErrorContains(t, err, "QUOTE_SOURCE must be yahoo or simulated")
}
