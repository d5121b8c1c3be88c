package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/quote-collector/quotecollectorapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// TestSmoke runs the function as main does, with the fake Yahoo and an embedded broker (the topic names
// are the production ones), delivers work batches as the connector would and reads the price events
// published; a malformed batch is refused for the dead-letter topic, and one whose every quote failed
// answers 500 for the connector to retry.
func TestSmoke(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	now := time.Now().UTC().Truncate(time.Second)
	quotes.SetQuote("AAPL", 190.5, "USD", now.Add(-time.Minute))
	quotes.SetQuote("MSFT", 410.25, "USD", now.Add(-time.Minute))
	brokers := kafkatest.Embedded(t)
	base := faastest.Start(t, quotecollectorapp.Name, quotecollectorapp.Wire, nil, map[string]string{
		"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL(), "KAFKA_BROKERS": strings.Join(brokers, ","),
	})
	batch := func(tickers ...stockalert.Ticker) string {
		b, err := json.Marshal(stockalert.CollectWork{RunID: "run-1", Batch: 0, Batches: 1, Tickers: tickers, Time: now})
		require.NoError(t, err)
		return string(b)
	}
	header := http.Header{"X-Topic": {stockalert.TopicCollect}, "X-Message-Id": {stockalert.TopicCollect + "/0/0"}}

	status, body := faastest.Call(t, http.MethodPost, base+"/", batch("AAPL", "MSFT"), header)
	require.Equal(t, http.StatusNoContent, status, body)
	msgs := kafkatest.Read(t, brokers, stockalert.TopicPrices, 2, 30*time.Second)
	prices := map[string]float64{}
	for _, m := range msgs {
		var ev stockalert.PriceEvent
		require.NoError(t, json.Unmarshal(m.Value, &ev))
		prices[string(m.Key)] = ev.Price
	}
	require.Equal(t, map[string]float64{"AAPL": 190.5, "MSFT": 410.25}, prices)

	status, body = faastest.Call(t, http.MethodPost, base+"/", `{"run_id":"r","batches":1,"tickers":[]}`, header)
	require.Equal(t, http.StatusBadRequest, status, "a malformed batch is poison: dead-letter it: %s", body)

	quotes.Fail("GOOG", http.StatusServiceUnavailable, 2) // the batch request, then its chart fallback
	status, body = faastest.Call(t, http.MethodPost, base+"/", batch("GOOG"), header)
	require.Equal(t, http.StatusInternalServerError, status, "every quote failed: retry the batch: %s", body)

	_, metrics := faastest.Call(t, http.MethodGet, base+"/metrics", "", nil)
	for _, want := range []string{`stockalert_collector_batches_total{outcome="ok"} 1`, `stockalert_collector_batches_total{outcome="retry"} 1`,
		`stockalert_collector_batches_total{outcome="error"} 1`} {
		require.Contains(t, metrics, want)
	}
}
