package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// decodeBody decodes the request's JSON object into dst. The Content-Type must be application/json (any
// parameters) or absent: errUnsupportedMediaType otherwise. Decoding errors are httpjson.DecodeJSON's:
// *stockalert.ValidationError naming the field or "body", httpjson.ErrBodyTooLarge.
func decodeBody(r *http.Request, dst any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errUnsupportedMediaType
		}
	}
	return httpjson.DecodeJSON(r.Body, dst, limit)
}

// idempotencyHeader is the header that makes a command at-most-once.
const idempotencyHeader = "Idempotency-Key"

// replayedHeader marks an answer replayed from an earlier request with the same Idempotency-Key.
const replayedHeader = "Idempotent-Replayed"

// idempotencyKey returns the request's Idempotency-Key and whether it sent one. A key sent empty,
// twice or malformed is a *stockalert.ValidationError for "Idempotency-Key".
func idempotencyKey(r *http.Request) (string, bool, error) {
	values := r.Header.Values(idempotencyHeader)
	switch len(values) {
	case 0:
		return "", false, nil
	case 1:
		key, err := stockalert.ParseIdempotencyKey(values[0])
		return key, true, err
	}
	return "", true, stockalert.Invalid(idempotencyHeader, "must be sent once")
}

// runOnce runs fn, at most once per key when the request carries an Idempotency-Key: a repeat gets the
// first answer with replayed=true. The claim is (scope, key) and fingerprint, a digest of what defines
// the request, tells a retry from a reuse of the key for something else
// (stockalert.ErrIdempotencyKeyReused). owner is the user the record belongs to. With perUser, keys
// are the owner's own: two users may send the same key (an authenticated request's key space is its
// user's, as with any per-account API).
func runOnce(ctx context.Context, once OnceRunner, r *http.Request, scope string, owner stockalert.Email, perUser bool,
	fingerprint string, fn func(ctx context.Context) ([]byte, error)) (body []byte, replayed bool, err error) {
	key, ok, err := idempotencyKey(r)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		body, err := fn(ctx)
		return body, false, err
	}
	if perUser {
		key = stockalert.HashSecret(string(owner))[:16] + "/" + key
	}
	claim := stockalert.IdempotencyClaim{Scope: scope, Key: key, Fingerprint: fingerprint}
	return once.RunOnce(ctx, claim, owner, fn)
}

// writeResult answers status with a JSON body made earlier (maybe by the first of several requests
// with one Idempotency-Key), marking a replay.
func writeResult(w http.ResponseWriter, status int, body []byte, replayed bool) {
	if replayed {
		w.Header().Set(replayedHeader, "true")
	}
	httpjson.WriteJSON(w, status, json.RawMessage(body))
}

// queryParams parses the query string, refusing malformed ones, parameters given twice and any not in
// known, each as a *stockalert.ValidationError naming the parameter (or "query").
func queryParams(r *http.Request, known ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, stockalert.Invalid("query", "is not a valid query string")
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(known, name) {
			return nil, stockalert.Invalid(name, "is not a known parameter (known: %s)", strings.Join(known, ", "))
		}
		if len(q[name]) > 1 {
			return nil, stockalert.Invalid(name, "must be given once")
		}
	}
	return q, nil
}

// marshal encodes a response model; they are plain structs, so failing is a programming error
// reported as such.
func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return b, nil
}
