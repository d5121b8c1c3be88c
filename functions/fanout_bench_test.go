package functions_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/data-collector/datacollectorapp"
	"github.com/stockalert/stockalert/functions/quote-collector/quotecollectorapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/kafkaconnector"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// BenchmarkCollectionOverReplicas times one whole collection of BENCH_COLLECT_TICKERS (5,000) tickers
// through the shipped composition roots, the fake Yahoo answering each request after 50 ms
// (BENCH_YAHOO_LATENCY): from the cron call to the data-collector until the last price event is in
// to-alert-system. Single process (COLLECTOR_FANOUT_BATCH=0) against fan-out in batches of 100 over
// 6 partitions (BENCH_FANOUT_BATCH), to one and to two quote-collector replicas (processes behind the gateway, which
// spreads the connector's invocations over them in turn); COLLECTOR_CONCURRENCY is the default, 8.
// It reports tickers/s and Yahoo requests per collection.
func BenchmarkCollectionOverReplicas(b *testing.B) {
	tickers := benchInt(b, "BENCH_COLLECT_TICKERS", 5000)
	latency, err := time.ParseDuration(benchEnv("BENCH_YAHOO_LATENCY", "50ms"))
	require.NoError(b, err)
	batch := benchInt(b, "BENCH_FANOUT_BATCH", 100)
	for _, c := range []struct {
		name            string
		batch, replicas int
	}{{"single-process", 0, 0}, {fmt.Sprintf("fanout-batch%d/replicas=1", batch), batch, 1}, {fmt.Sprintf("fanout-batch%d/replicas=2", batch), batch, 2}} {
		b.Run(c.name, func(b *testing.B) { benchCollection(b, tickers, latency, c.batch, c.replicas) })
	}
}

func benchCollection(b *testing.B, n int, latency time.Duration, batch, nReplicas int) {
	quotes := yahootest.NewServer(b)
	target, err := url.Parse(quotes.URL())
	require.NoError(b, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency) // the upstream's latency, which the collection overlaps
		proxy.ServeHTTP(w, r)
	}))
	b.Cleanup(slow.Close)

	const partitions = 6
	brokers := kafkatest.Embedded(b)
	with := sharedEnv(b, brokers, partitions)
	yahooEnv := map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": slow.URL, "exec_timeout": "300s", "write_timeout": "310s"}
	dcEnv := with(yahooEnv)
	dcEnv["COLLECTOR_FANOUT_BATCH"] = strconv.Itoa(batch)
	routes := map[string]http.Handler{datacollectorapp.Name: newRoute(b, faastest.Run(b, datacollectorapp.Name, datacollectorapp.Wire, faastest.Env(b, nil, dcEnv)))}
	if batch > 0 {
		pool := &replicas{}
		for range nReplicas {
			pool.routes = append(pool.routes, newRoute(b, faastest.Start(b, quotecollectorapp.Name, quotecollectorapp.Wire, nil, with(yahooEnv))))
		}
		routes[quotecollectorapp.Name] = pool
	}
	gateway := serveGateway(b, routes)
	if batch > 0 {
		runConnector(b, gateway, brokers, partitions, func(cfg *kafkaconnector.Config) {
			cfg.Topics = []string{stockalert.TopicCollect}
		})
	}

	// n tickers, 100 to a user.
	store := faastest.Store(b, faastest.Env(b, nil, dcEnv))
	ctx := context.Background()
	register, subscribe := command.NewRegisterUserHandler(store, nil, nil), command.NewSubscribeHandler(store, nil, nil)
	at := time.Now().Add(-time.Hour).Truncate(time.Minute)
	for i := range n {
		tk := fmt.Sprintf("T%05d", i)
		email := fmt.Sprintf("u%d@example.com", i/100)
		if i%100 == 0 {
			require.NoError(b, register.Handle(ctx, command.RegisterUser{Email: email, Ticker: tk,
				TokenHash: stockalert.HashSecret(email), LinkCodeHash: stockalert.HashSecret(email + "c")}))
		} else {
			require.NoError(b, subscribe.Handle(ctx, command.Subscribe{Email: email, Ticker: tk}))
		}
	}

	var took time.Duration
	requests := quotes.HTTPRequests("")
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for j := range n {
			quotes.SetQuote(fmt.Sprintf("T%05d", j), 100+float64(i), "USD", at.Add(time.Duration(i)*time.Minute))
		}
		b.StartTimer()
		start := time.Now()
		callJSON(b, gateway, http.MethodPost, "/function/data-collector", "", "", http.StatusOK)
		want := int64((i + 1) * n)
		for kafkatest.Size(b, brokers, stockalert.TopicPrices) < want {
			time.Sleep(10 * time.Millisecond) // polling for the last event, not asserting on time
		}
		took += time.Since(start)
	}
	b.ReportMetric(float64(n*b.N)/took.Seconds(), "tickers/s")
	b.ReportMetric(float64(quotes.HTTPRequests("")-requests)/float64(b.N), "yahoo-requests/op")
}

func benchEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func benchInt(b *testing.B, name string, def int) int {
	n, err := strconv.Atoi(benchEnv(name, strconv.Itoa(def)))
	require.NoError(b, err)
	return n
}
