// Package trigger is the HTTP edge of the functions that are triggered rather than called: by a Kafka
// message through the kafka-connector, or by the cron connector. It decodes the message, runs the use
// case, and maps the outcome to the status the connector acts on, in one place:
//
//   - 2xx: done; the connector commits the offset.
//   - 400: the message can never succeed (malformed, or refused by the domain's validation); the
//     connector sends it to the dead-letter topic at once. So does 413, a message over the body limit.
//   - 503 with Retry-After: the use case was asked to wait (Telegram's flood control), or another
//     delivery of the same message is under way (stockalert.ErrInFlight, a normal race between a
//     redelivery and the first delivery: Retry-After inFlightRetryAfter, logged at INFO); retry later.
//   - 500: a transient fault (database, broker, Telegram); the connector retries with backoff.
package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Headers the kafka-connector sets on each invocation.
const (
	HeaderMessageID = "X-Message-Id"
	HeaderTopic     = "X-Topic"
)

// inFlightRetryAfter is the Retry-After answered while another delivery of the same message holds its
// claim: long enough for that delivery to finish (a Telegram send takes well under it), short enough
// that a delivery that died is taken over soon after its claim's lease ends.
const inFlightRetryAfter = 5 * time.Second

// retryAfter is implemented by errors that carry how long to wait before retrying (for example the
// Telegram adapter's flood-control error).
type retryAfter interface {
	RetryAfter() time.Duration
}

// Message returns a handler for a function triggered by Kafka messages whose value is a JSON T: it
// decodes the body and calls handle with the request's context. Decoding is tolerant of fields it does
// not know (a newer producer may add some), and a body that is not JSON of that shape is a 400 naming
// "body". maxBody bounds the body.
func Message[T any](handle func(ctx context.Context, msg T) error, maxBody int64, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			httpjson.WriteError(w, http.StatusMethodNotAllowed, "use POST", "")
			return
		}
		msg, err := decode[T](w, r, maxBody)
		if err != nil {
			respond(w, r, logger, err)
			return
		}
		respond(w, r, logger, handle(r.Context(), msg))
	})
}

func decode[T any](w http.ResponseWriter, r *http.Request, maxBody int64) (T, error) {
	var msg T
	body, err := httpjson.ReadBody(w, r, maxBody)
	if err != nil {
		return msg, fmt.Errorf("read message: %w", err)
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return msg, stockalert.Invalid("body", "is not a %T message: %v", msg, err)
	}
	return msg, nil
}

// Report is what a scheduled run returns to show in its response.
type Report any

// Cron returns a handler for a function triggered on a schedule: each request runs run once and
// answers 200 with its report as JSON (or the error's status, as for Message).
func Cron(run func(ctx context.Context) (Report, error), logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET, POST")
			httpjson.WriteError(w, http.StatusMethodNotAllowed, "use POST", "")
			return
		}
		rep, err := run(r.Context())
		if err != nil {
			respond(w, r, logger, err)
			return
		}
		httpjson.WriteJSON(w, http.StatusOK, rep)
	})
}

// respond maps a use case's outcome to the connector's language. It is the only place that does. The
// answer carries the validation error or a fixed text; the error chain is logged, never sent.
func respond(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	msgID := r.Header.Get(HeaderMessageID)
	var ra retryAfter
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, httpjson.ErrBodyTooLarge):
		logger.WarnContext(r.Context(), "message too large: dead-lettered", "message_id", msgID, "err", err)
		httpjson.WriteBodyTooLarge(w, err)
	case isPoison(err):
		v, _ := stockalert.AsValidation(err)
		logger.WarnContext(r.Context(), "message refused: dead-lettered", "message_id", msgID, "err", err)
		httpjson.WriteError(w, http.StatusBadRequest, v.Error(), v.Field)
	case errors.Is(err, stockalert.ErrInFlight):
		w.Header().Set("Retry-After", strconv.Itoa(int(inFlightRetryAfter/time.Second)))
		logger.InfoContext(r.Context(), "another delivery is under way: retry later", "message_id", msgID,
			"retry_after", inFlightRetryAfter, "err", err)
		httpjson.WriteError(w, http.StatusServiceUnavailable, "another delivery of this message is under way: retry later", "")
	case errors.As(err, &ra):
		secs := int(math.Ceil(ra.RetryAfter().Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		logger.WarnContext(r.Context(), "asked to wait: retry later", "message_id", msgID, "retry_after", ra.RetryAfter(), "err", err)
		httpjson.WriteError(w, http.StatusServiceUnavailable, "retry later", "")
	default:
		logger.ErrorContext(r.Context(), "message failed: retry", "message_id", msgID, "err", err)
		httpjson.WriteError(w, http.StatusInternalServerError, "internal error", "")
	}
}

// isPoison reports whether a message can never succeed, however often it is retried.
func isPoison(err error) bool {
	_, ok := stockalert.AsValidation(err)
	return ok
}
