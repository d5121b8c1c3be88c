package functions_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-system/alertsystemapp"
	"github.com/stockalert/stockalert/functions/data-collector/datacollectorapp"
	"github.com/stockalert/stockalert/functions/quote-collector/quotecollectorapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/kafkaconnector"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// replicas is a function with several replicas behind the gateway, which spreads the invocations
// over them in turn, as OpenFaaS's gateway balances a function's replicas.
type replicas struct {
	routes []*route
	next   atomic.Uint64
}

func (r *replicas) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.routes[(r.next.Add(1)-1)%uint64(len(r.routes))].ServeHTTP(w, req)
}

// TestPipelineFansTheCollectionOutOverReplicas runs the fanned-out collection through the shipped
// composition roots: the cron-triggered data-collector (COLLECTOR_FANOUT_BATCH=2) publishes six
// tickers in three work batches to to-quote-collector, the kafka-connector hands them through the
// gateway to two quote-collector replicas (two processes), which price them from the fake Yahoo and
// publish the price events that alert-system evaluates. One batch fails wholly at its first attempt
// (Yahoo answers 503 for both its tickers): its replica answers 500 and the connector retries that
// batch alone, so its two tickers are asked for twice and every other ticker once.
func TestPipelineFansTheCollectionOutOverReplicas(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	brokers := kafkatest.Embedded(t)
	with := sharedEnv(t, brokers, 3)
	yahooEnv := map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL()}

	collectorEnv := with(map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL(), "COLLECTOR_FANOUT_BATCH": "2"})
	dataCollector := faastest.Run(t, datacollectorapp.Name, datacollectorapp.Wire, faastest.Env(t, nil, collectorEnv))
	store := faastest.Store(t, faastest.Env(t, nil, collectorEnv))
	pool := &replicas{}
	for range 2 {
		pool.routes = append(pool.routes, newRoute(t, faastest.Start(t, quotecollectorapp.Name, quotecollectorapp.Wire, nil, with(yahooEnv))))
	}
	evaluator := newRoute(t, faastest.Start(t, alertsystemapp.Name, alertsystemapp.Wire, nil, with(nil)))
	gateway := serveGateway(t, map[string]http.Handler{
		datacollectorapp.Name: newRoute(t, dataCollector), quotecollectorapp.Name: pool, alertsystemapp.Name: evaluator,
	})
	runConnector(t, gateway, brokers, 3, func(cfg *kafkaconnector.Config) {
		cfg.Topics = append(cfg.Topics, stockalert.TopicCollect)
	})

	// Six subscribed tickers, one user; AAPL above the user's level.
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	tickers := []string{"AAPL", "AMZN", "GOOG", "MSFT", "NVDA", "TSLA"}
	for _, tk := range tickers {
		quotes.SetQuote(tk, 150, "USD", at)
	}
	ctx := context.Background()
	require.NoError(t, command.NewRegisterUserHandler(store, nil, nil).Handle(ctx, command.RegisterUser{
		Email: "fan@example.com", Ticker: "AAPL", Thresholds: stockalert.Thresholds{High: stockalert.Float(100)},
		TokenHash: stockalert.HashSecret("t"), LinkCodeHash: stockalert.HashSecret("c")}))
	for _, tk := range tickers[1:] {
		require.NoError(t, command.NewSubscribeHandler(store, nil, nil).Handle(ctx, command.Subscribe{Email: "fan@example.com", Ticker: tk}))
	}
	// The batches are AAPL AMZN, GOOG MSFT, NVDA TSLA (the tickers in order): the second fails once.
	// Its first quote API request fails (GOOG's first fault), and so do both chart requests it falls
	// back to (GOOG's second, MSFT's first); its retry's quote API request fails too (MSFT's second)
	// and its chart fallbacks succeed.
	quotes.Fail("GOOG", http.StatusServiceUnavailable, 2)
	quotes.Fail("MSFT", http.StatusServiceUnavailable, 2)

	body := callJSON(t, gateway, http.MethodPost, "/function/data-collector", "", "", http.StatusOK)
	require.Equal(t, 6.0, body["tickers"], body)
	require.Equal(t, 3.0, body["batches"], body)
	require.Equal(t, 0.0, body["quoted"], "the cron run prices nothing itself: %v", body)
	require.Empty(t, body["publish_error"])

	// Every price event reaches alert-system, the failed batch's after its retry.
	require.Eventually(t, func() bool { return len(evaluator.answered()) == len(tickers) }, time.Minute, 20*time.Millisecond)
	// A replica publishes its events before it answers: wait for the answers (four: one batch twice).
	require.Eventually(t, func() bool { return len(pool.routes[0].answered())+len(pool.routes[1].answered()) == 4 },
		time.Minute, 20*time.Millisecond)
	var answered []int
	for i, r := range pool.routes {
		got := r.answered()
		require.NotEmpty(t, got, "replica %d took no batch", i)
		answered = append(answered, got...)
	}
	slices.Sort(answered)
	require.Equal(t, []int{http.StatusNoContent, http.StatusNoContent, http.StatusNoContent, http.StatusInternalServerError}, answered,
		"three batches done, one retried once")
	for _, tk := range tickers {
		want := 1 // one quote API request
		if tk == "GOOG" || tk == "MSFT" {
			want = 4 // two quote API requests, each followed by a chart request
		}
		require.Equal(t, want, quotes.Requests(tk), "%s: the retry redid only its own batch", tk)
	}
	require.Equal(t, int64(len(tickers)), kafkatest.Size(t, brokers, stockalert.TopicPrices), "one price event per ticker")
	require.Equal(t, len(tickers), storetest.Count(t, store.DB(), "prices", ""))
	require.Eventually(t, func() bool { return kafkatest.Size(t, brokers, stockalert.TopicAlerts) == 1 }, time.Minute, 20*time.Millisecond,
		"AAPL's breach raised its alert")
	var alert stockalert.AlertEvent
	require.NoError(t, json.Unmarshal(kafkatest.Read(t, brokers, stockalert.TopicAlerts, 1, 30*time.Second)[0].Value, &alert))
	require.Equal(t, stockalert.Ticker("AAPL"), alert.Ticker)
}
