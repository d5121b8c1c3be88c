package trigger_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/edge/trigger"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram"
)

type event struct {
	ID    string  `json:"id"`
	Price float64 `json:"price"`
}

func post(h http.Handler, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set(trigger.HeaderMessageID, "to-alert-system/0/42")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestMessageOutcomes checks the one mapping from a use case's outcome to what the connector does.
func TestMessageOutcomes(t *testing.T) {
	for _, c := range []struct {
		name       string
		body       string
		err        error
		status     int
		retryAfter string
		field      string
	}{
		{"success acks", `{"id":"a","price":1}`, nil, http.StatusNoContent, "", ""},
		{"unknown fields are tolerated", `{"id":"a","price":1,"new_field":true}`, nil, http.StatusNoContent, "", ""},
		{"malformed JSON is poison", `{"id":`, nil, http.StatusBadRequest, "", "body"},
		{"a wrong type is poison", `{"id":1}`, nil, http.StatusBadRequest, "", "body"},
		{"a refused message is poison", `{"id":"a"}`, stockalert.Invalid("price", "must be positive"), http.StatusBadRequest, "", "price"},
		{"flood control asks to wait", `{"id":"a"}`, fmt.Errorf("send: %w", &telegram.RetryAfterError{After: 2500 * time.Millisecond}), http.StatusServiceUnavailable, "3", ""},
		{"another delivery under way asks to wait", `{"id":"a"}`, fmt.Errorf("alert a: %w", stockalert.ErrInFlight), http.StatusServiceUnavailable, "5", ""},
		{"a fault is retried", `{"id":"a"}`, errors.New("database is locked"), http.StatusInternalServerError, "", ""},
		{"not found is a fault here too", `{"id":"a"}`, stockalert.ErrNotFound, http.StatusInternalServerError, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got event
			called := false
			h := trigger.Message(func(_ context.Context, ev event) error {
				called, got = true, ev
				return c.err
			}, 1024, slog.New(slog.DiscardHandler))
			rec := post(h, c.body)
			require.Equal(t, c.status, rec.Code, rec.Body.String())
			require.Equal(t, c.retryAfter, rec.Header().Get("Retry-After"))
			if c.status >= 400 {
				var body map[string]string
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
				require.NotEmpty(t, body["error"])
				require.Equal(t, c.field, body["field"])
				require.NotContains(t, rec.Body.String(), "database is locked", "faults are logged, not leaked")
			}
			if c.status == http.StatusNoContent {
				require.True(t, called)
				require.Equal(t, "a", got.ID)
			}
		})
	}
}

func TestMessageLimitsTheBodyAndMethod(t *testing.T) {
	h := trigger.Message(func(context.Context, event) error { return nil }, 16, slog.New(slog.DiscardHandler))
	rec := post(h, `{"id":"`+strings.Repeat("x", 100)+`"}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.JSONEq(t, `{"error":"request body too large: larger than 16 bytes","field":"body"}`, rec.Body.String())
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, "POST", rec.Header().Get("Allow"))
}

func TestCronAnswersTheReport(t *testing.T) {
	runs := 0
	h := trigger.Cron(func(context.Context) (trigger.Report, error) {
		runs++
		if runs == 2 {
			return nil, errors.New("store down")
		}
		return map[string]int{"tickers": 3}, nil
	}, slog.New(slog.DiscardHandler))
	rec := post(h, "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"tickers":3}`, rec.Body.String())
	rec = post(h, "")
	require.Equal(t, http.StatusInternalServerError, rec.Code)
}

// TestInFlightIsNotAnError: another delivery of the same alert holding its claim is a normal race
// (a redelivery, a copy from another relay): an INFO line and 503, never an ERROR line and 500.
func TestInFlightIsNotAnError(t *testing.T) {
	var logs strings.Builder
	h := trigger.Message(func(context.Context, event) error {
		return fmt.Errorf("send alert: %w", stockalert.ErrInFlight)
	}, 1024, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	rec := post(h, `{"id":"a","price":1}`)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "5", rec.Header().Get("Retry-After"))
	var line struct {
		Level     string `json:"level"`
		MessageID string `json:"message_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(logs.String()), &line), logs.String())
	require.Equal(t, "INFO", line.Level, logs.String())
	require.Equal(t, "to-alert-system/0/42", line.MessageID)
	require.Equal(t, 1, strings.Count(logs.String(), "\n"), "one line: %s", logs.String())
}
