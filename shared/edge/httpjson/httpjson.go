package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// ErrBodyTooLarge is faas.ErrBodyTooLarge, the cause of every 413: DecodeJSON and ReadBody return it
// as a *faas.BodyTooLargeError (wrapping the *http.MaxBytesError when there is one). An edge's one
// error-mapping function answers it with WriteBodyTooLarge; the runtime answers the same 413 by itself
// when the declared Content-Length is over max_body_bytes.
var ErrBodyTooLarge = faas.ErrBodyTooLarge

// WriteBodyTooLarge is the one answer to a body over the limit: 413
// {"error": "request body too large: larger than N bytes", "field": "body"}, the text of the
// *faas.BodyTooLargeError in err's chain (without N when there is none). Nothing else of err is sent.
func WriteBodyTooLarge(w http.ResponseWriter, err error) {
	msg := ErrBodyTooLarge.Error()
	var tooLarge *faas.BodyTooLargeError
	if errors.As(err, &tooLarge) {
		msg = tooLarge.Error()
	}
	WriteError(w, http.StatusRequestEntityTooLarge, msg, "body")
}

// ReadBody reads the whole body of r, at most limit bytes (faas.DefaultMaxBodyBytes when limit <= 0),
// for edges that decode it themselves. Errors: a *faas.BodyTooLargeError (matching ErrBodyTooLarge)
// for a body over the limit, here or in the runtime's cap; otherwise the reader's error, wrapped.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = faas.DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if isMaxBytes(err) {
		return nil, tooLarge(limit, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return body, nil
}

// errorBody is the JSON every function answers an error with.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// WriteJSON answers status with v encoded as JSON. v is encoded before anything is written, so a value
// that cannot be encoded (a programming error) yields a 500 error body rather than half a response.
// Failing to write to the client is not reported: the client is gone and nothing can be done about it.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(errorBody{Error: "internal error: response could not be encoded"})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// WriteError answers status with {"error": msg, "field": field}; field is left out when empty.
func WriteError(w http.ResponseWriter, status int, msg, field string) {
	WriteJSON(w, status, errorBody{Error: msg, Field: field})
}

// DecodeJSON decodes a request body that must hold exactly one JSON object, with no field dst does not
// declare, into dst (a pointer), reading at most limit bytes (faas.DefaultMaxBodyBytes when limit <= 0).
//
// Errors: ErrBodyTooLarge (wrapped) for a body over the limit; otherwise a *stockalert.ValidationError
// whose Field is the offending JSON field when it is known (an unknown field, a value of the wrong type,
// as a dotted path such as "thresholds.high") and "body" for everything else (empty, malformed,
// truncated, not an object, trailing data), with the byte offset when the decoder reports one.
func DecodeJSON(body io.Reader, dst any, limit int64) error {
	if limit <= 0 {
		limit = faas.DefaultMaxBodyBytes
	}
	lr := &limitedReader{r: body, n: limit}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, lr)
	}
	// Exactly one value: anything but white space after it is an error.
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if lr.over || isMaxBytes(err) {
			return tooLarge(limit, err)
		}
		return stockalert.Invalid("body", "must hold a single JSON object, found more data after it")
	}
	return nil
}

func decodeError(err error, lr *limitedReader) error {
	if lr.over || isMaxBytes(err) {
		return tooLarge(lr.limit(), err)
	}
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return stockalert.Invalid("body", "is empty: expected a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return stockalert.Invalid("body", "is truncated: the JSON object is not closed")
	case errors.As(err, &syntaxErr):
		return stockalert.Invalid("body", "is not valid JSON at byte %d: %s", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return stockalert.Invalid("body", "must be a JSON object, not a JSON %s", typeErr.Value)
		}
		return stockalert.Invalid(typeErr.Field, "must be %s, not a JSON %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case strings.HasPrefix(err.Error(), `json: unknown field "`):
		name := strings.TrimSuffix(strings.TrimPrefix(err.Error(), `json: unknown field "`), `"`)
		return stockalert.Invalid(name, "is not a known field")
	}
	// What is left is not the client's input: the reader failing (a broken connection, a read
	// timeout) or dst not being a pointer.
	return fmt.Errorf("decode JSON body: %w", err)
}

// jsonKind names a Go kind as the JSON a client should have sent.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "of another type"
}

func isMaxBytes(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// tooLarge is the error of a body over limit, or over the limit of the *http.MaxBytesError in err.
func tooLarge(limit int64, err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return &faas.BodyTooLargeError{Limit: mb.Limit, Err: mb}
	}
	return &faas.BodyTooLargeError{Limit: limit}
}

// limitedReader reads at most n bytes and notes an attempt to read past them.
type limitedReader struct {
	r    io.Reader
	n    int64
	read int64
	over bool
}

func (l *limitedReader) limit() int64 { return l.n }

func (l *limitedReader) Read(p []byte) (int, error) {
	left := l.n - l.read
	if left <= 0 {
		// Peek one byte to tell "exactly at the limit" from "over it".
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			l.over = true
			return 0, ErrBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	return n, err
}
