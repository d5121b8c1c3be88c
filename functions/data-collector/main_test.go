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
	quotes.SetPreviousClose("AAPL", 188, 0) // chartPreviousClose only, as Yahoo often answers
	quotes.SetQuote("MSFT", 410.25, "USD", time.Now().Add(-time.Minute))
	quotes.SetPreviousClose("MSFT", 0, 0) // no previous close at all: the day change is unknown
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
	require.NoError(t, command.NewSubscribeHandler(store, nil, nil).Handle(ctx, command.Subscribe{Email: "smoke@example.com", Ticker: "MSFT"}))

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
	require.Equal(t, 3, rep.Tickers)
	require.Equal(t, 3, rep.Quoted)
	require.Equal(t, []string{"OLD.L"}, rep.Stale, "QUOTE_MAX_AGE's default (7 days) applies")
	require.Equal(t, "closed", rep.Breaker)
	require.Empty(t, rep.PublishError, "the event reached Kafka")
	msgs := kafkatest.Read(t, brokers, stockalert.TopicPrices, 2, 30*time.Second)
	events := map[string]map[string]any{}
	for _, m := range msgs {
		var ev map[string]any
		require.NoError(t, json.Unmarshal(m.Value, &ev))
		events[string(m.Key)] = ev
	}
	require.Len(t, events, 2, "one event each for AAPL and MSFT, none for the stale OLD.L")
	aapl := events["AAPL"]
	require.Equal(t, "AAPL", aapl["ticker"])
	require.Equal(t, 188.0, aapl["previous_close"], "the source's previous close travels with the price")
	require.InDelta(t, 2.5, aapl["day_change"], 1e-9)
	require.InDelta(t, 2.5/188*100, aapl["day_change_percent"], 1e-9)
	msft := events["MSFT"]
	require.Equal(t, 410.25, msft["price"])
	for _, k := range []string{"previous_close", "day_change", "day_change_percent"} {
		require.NotContains(t, msft, k, "no previous close from the source: %s is left out", k)
	}
	_, metrics := faastest.Call(t, http.MethodGet, base+"/metrics", "", nil)
	require.Contains(t, metrics, `stockalert_collector_quotes_total{outcome="stale"} 1`)
	require.Contains(t, metrics, `stockalert_collector_quotes_total{outcome="ok"} 2`)
	require.Equal(t, 1, storetest.Count(t, store.DB(), "prices", "ticker = 'OLD.L' AND currency = 'GBp'"), "it is recorded as the last trade")
}

func TestRefusesAnUnknownQuoteSource(t *testing.T) {
	t.Parallel()
	env := faastest.Env(t, nil, map[string]string{"QUOTE_SOURCE": "bloomberg", "KAFKA_BROKERS": "127.0.0.1:1"})
	err := faas.RunEnv(context.Background(), datacollectorapp.Name, datacollectorapp.Wire, env)
	require.ErrorContains(t, err, "QUOTE_SOURCE must be yahoo or simulated")
}
