package functions_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/functions/alert-system/alertsystemapp"
	"github.com/stockalert/stockalert/functions/quote-collector/quotecollectorapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/kafkaconnector"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// sharedEnv returns how to build a function's environment in the in-process pipelines: what every
// function shares, as on one OpenFaaS (a fresh store, the brokers, the partitions of the topics they
// create), plus the function's own settings. Never the test process's environment: the tests run in
// parallel.
func sharedEnv(t testing.TB, brokers []string, partitions int) func(own map[string]string) map[string]string {
	t.Helper()
	shared := faastest.StoreEnv(t)
	shared["KAFKA_BROKERS"] = strings.Join(brokers, ",")
	shared["KAFKA_TOPIC_PARTITIONS"] = strconv.Itoa(partitions)
	return func(own map[string]string) map[string]string {
		all := maps.Clone(shared)
		maps.Copy(all, own)
		return all
	}
}

// serveGateway serves gatewayMux(t, routes) until the test ends, and returns its URL.
func serveGateway(t testing.TB, routes map[string]http.Handler) string {
	t.Helper()
	gateway := httptest.NewServer(gatewayMux(t, routes))
	t.Cleanup(gateway.Close)
	return gateway.URL
}

// gatewayMux is what the pipelines need of an OpenFaaS gateway: the provider API the kafka-connector
// reads (alert-system subscribed to to-alert-system, alert-notifier to to-notifier, quote-collector to
// to-quote-collector, in namespace openfaas-fn) and, for each function in routes, /function/<name>[.openfaas-fn][/path] handed to its
// handler with the prefix stripped.
func gatewayMux(t testing.TB, routes map[string]http.Handler) http.Handler {
	t.Helper()
	fns := []types.FunctionStatus{
		{Name: alertsystemapp.Name, Namespace: "openfaas-fn", Annotations: &map[string]string{"topic": stockalert.TopicPrices}},
		{Name: alertnotifierapp.Name, Namespace: "openfaas-fn", Annotations: &map[string]string{"topic": stockalert.TopicAlerts}},
		{Name: quotecollectorapp.Name, Namespace: "openfaas-fn", Annotations: &map[string]string{"topic": stockalert.TopicCollect}},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /system/namespaces", func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode([]string{"openfaas-fn"}) })
	mux.HandleFunc("GET /system/functions", func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(fns) })
	for name, h := range routes {
		for _, prefix := range []string{"/function/" + name, "/function/" + name + ".openfaas-fn"} {
			mux.Handle(prefix, http.StripPrefix(prefix, h))
			mux.Handle(prefix+"/", http.StripPrefix(prefix, h))
		}
	}
	return mux
}

// runConnector runs the kafka-connector for the production topics against gateway until the test
// ends (then it must stop cleanly), creating the topics with partitions partitions; adjust, when not
// nil, changes its settings. The context it returns ends with the test.
func runConnector(t testing.TB, gateway string, brokers []string, partitions int, adjust func(*kafkaconnector.Config)) context.Context {
	t.Helper()
	cfg := kafkaconnector.Config{
		GatewayURL: gateway, Brokers: brokers, Topics: []string{stockalert.TopicPrices, stockalert.TopicAlerts},
		Group: kafkatest.Topic(t, "group"), CreateTopics: true, TopicPartitions: partitions,
		RetryInitialInterval: 50 * time.Millisecond, RebuildInterval: time.Second,
		ContentType: "application/json", ShutdownTimeout: 5 * time.Second,
	}
	if adjust != nil {
		adjust(&cfg)
	}
	conn, err := kafkaconnector.New(cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- conn.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-stopped)
	})
	return ctx
}

// callJSON sends method path (with a bearer token unless empty, and a JSON body) to gateway, requires
// the status want, and returns the JSON object answered (nil for an empty body).
func callJSON(t testing.TB, gateway, method, path, token, body string, want int) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, gateway+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, want, res.StatusCode, "%s %s: %s", method, path, raw)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	}
	return out
}
