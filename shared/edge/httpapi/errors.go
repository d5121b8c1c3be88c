package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// errUnsupportedMediaType: the request body is declared as something other than JSON.
var errUnsupportedMediaType = errors.New("unsupported media type")

// writeError is the one place errors become HTTP answers, {"error": "...", "field": "..."}:
//
//	*stockalert.ValidationError          400, field as the client spelled it
//	stockalert.ErrUnauthorized           401, WWW-Authenticate: Bearer; the same body whatever the cause
//	stockalert.ErrNotFound               404, the Reason of a *stockalert.NotFoundError ("no rule on
//	                                     NVDA"), else "not found"
//	stockalert.ErrConflict               409, the Reason and field of a *stockalert.ConflictError,
//	                                     else a fixed text
//
// Only texts written for the caller reach the body (a validation's, a NotFoundError's or a
// ConflictError's reason), never an error's wrap chain.
//
//	httpjson.ErrBodyTooLarge             413, field "body" (httpjson.WriteBodyTooLarge)
//	errUnsupportedMediaType              415, field "Content-Type"
//	stockalert.ErrIdempotencyKeyReused   422, field "Idempotency-Key"
//	stockalert.ErrTooManyVerifications   429, field "email", Retry-After: 3600
//	query.ErrHistoryUnavailable          503, Retry-After: 60: the quote source cannot be reached
//	anything else                        500 "internal error"; the error is logged, never sent
func (e *edge) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		conflict *stockalert.ConflictError
		notFound *stockalert.NotFoundError
	)
	v, invalid := stockalert.AsValidation(err)
	switch {
	case errors.Is(err, httpjson.ErrBodyTooLarge):
		httpjson.WriteBodyTooLarge(w, err)
	case errors.Is(err, errUnsupportedMediaType):
		httpjson.WriteError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json", "Content-Type")
	case invalid:
		httpjson.WriteError(w, http.StatusBadRequest, v.Error(), v.Field)
	case errors.Is(err, stockalert.ErrUnauthorized):
		w.Header().Set("WWW-Authenticate", `Bearer realm="stockalert"`)
		httpjson.WriteError(w, http.StatusUnauthorized, "missing or invalid bearer token for this user", "")
	case errors.As(err, &notFound):
		httpjson.WriteError(w, http.StatusNotFound, notFound.Reason, "")
	case errors.Is(err, stockalert.ErrNotFound):
		httpjson.WriteError(w, http.StatusNotFound, "not found", "")
	case errors.Is(err, stockalert.ErrIdempotencyKeyReused):
		httpjson.WriteError(w, http.StatusUnprocessableEntity,
			"the Idempotency-Key was already used for a different request", "Idempotency-Key")
	case errors.Is(err, stockalert.ErrTooManyVerifications):
		writeTooManyVerifications(w)
	case errors.Is(err, query.ErrHistoryUnavailable):
		w.Header().Set("Retry-After", "60")
		httpjson.WriteError(w, http.StatusServiceUnavailable, "price history is unavailable right now: the quote source cannot be reached; try again in a minute", "")
	case errors.As(err, &conflict):
		httpjson.WriteError(w, http.StatusConflict, conflict.Reason, conflict.Field)
	case errors.Is(err, stockalert.ErrConflict):
		httpjson.WriteError(w, http.StatusConflict, "the request conflicts with the current state", "")
	default:
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelWarn // the client left or exec_timeout passed: nobody reads this answer
		}
		e.logger.LogAttrs(r.Context(), level, "request failed",
			slog.String("method", r.Method), slog.String("route", r.Pattern), slog.String("err", err.Error()))
		httpjson.WriteError(w, http.StatusInternalServerError, "internal error", "")
	}
}
