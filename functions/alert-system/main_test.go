package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-system/alertsystemapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// TestSmoke runs the function as main does, with an embedded broker (the topic names are the
// production ones), delivers a price event as the connector would and reads the alert it published.
func TestSmoke(t *testing.T) {
	t.Parallel()
	brokers := kafkatest.Embedded(t)
	env := faastest.Env(t, nil, map[string]string{"KAFKA_BROKERS": strings.Join(brokers, ",")})
	ctx := context.Background()
	store := faastest.Store(t, env)
	require.NoError(t, command.NewRegisterUserHandler(store, nil, nil).Handle(ctx, command.RegisterUser{
		Email: "smoke@example.com", Ticker: "AAPL", Thresholds: stockalert.Thresholds{High: stockalert.Float(100)},
		TokenHash: stockalert.HashSecret("t"), LinkCodeHash: stockalert.HashSecret("c")}))

	base := faastest.Run(t, alertsystemapp.Name, alertsystemapp.Wire, env)
	ev, _ := json.Marshal(stockalert.PriceEvent{EventID: "ev-1", Ticker: "AAPL", Price: 120, Currency: "USD",
		Time: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)})
	status, body := faastest.Call(t, http.MethodPost, base+"/", string(ev), nil)
	require.Equal(t, http.StatusNoContent, status, body)

	msgs := kafkatest.Read(t, brokers, stockalert.TopicAlerts, 1, 30*time.Second)
	var alert stockalert.AlertEvent
	require.NoError(t, json.Unmarshal(msgs[0].Value, &alert))
	require.Equal(t, "smoke@example.com", string(msgs[0].Key))
	require.Equal(t, stockalert.Above, alert.Condition)
	require.Equal(t, 100.0, alert.Threshold)

	status, body = faastest.Call(t, http.MethodPost, base+"/", `{"event_id":"x","ticker":"AA PL"}`, nil)
	require.Equal(t, http.StatusBadRequest, status, "a malformed event is poison: dead-letter it: %s", body)
}
