package httpjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

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

// DecodeJSON decodes a request body that must hold exactly one JSON object into dst (a pointer),
// reading at most limit bytes (faas.DefaultMaxBodyBytes when limit <= 0). The decoding is strict, so
// that what is stored is exactly what the client sent, and one reading of a body is the only one:
//
//   - member names match dst's `json` names exactly (case-sensitive): "EMAIL" is not "email";
//   - a name given twice in one object is refused (RFC 8259 §4 leaves duplicates undefined; RFC 7493
//     I-JSON §2.3 forbids them); a case variant of a known name is an unknown name, refused below;
//   - the text must be valid UTF-8 (RFC 8259 §8.1) and every \u escape a valid UTF-16 sequence:
//     nothing is silently replaced with U+FFFD;
//   - a member dst does not declare is refused.
//
// The decoder is github.com/go-json-experiment/json, the module that mirrors the standard library's
// encoding/json/v2 (stable in Go 1.27), with its defaults plus RejectUnknownMembers.
//
// Errors: ErrBodyTooLarge (wrapped) for a body over the limit; otherwise a *stockalert.ValidationError
// whose Field is the offending JSON member when it is known (an unknown or duplicate member, a value of
// the wrong type or with invalid UTF-8, as a dotted path such as "thresholds.high") and "body" for
// everything else (empty, malformed, truncated, not an object, trailing data), with the byte offset
// when the decoder reports one.
func DecodeJSON(body io.Reader, dst any, limit int64) error {
	if limit <= 0 {
		limit = faas.DefaultMaxBodyBytes
	}
	// The whole body is read first, so that a body over the limit is a 413 whatever it holds.
	lr := &limitedReader{r: body, n: limit}
	data, err := io.ReadAll(lr)
	if lr.over || isMaxBytes(err) {
		return tooLarge(limit, err)
	}
	if err != nil {
		// Not the client's input: a broken connection, a read timeout.
		return fmt.Errorf("read JSON body: %w", err)
	}
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	if err := jsonv2.UnmarshalDecode(dec, dst, jsonv2.RejectUnknownMembers(true)); err != nil {
		return decodeError(err)
	}
	// Exactly one value: anything but white space after it is an error.
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return stockalert.Invalid("body", "must hold a single JSON object, found more data after it")
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntaxErr   *jsontext.SyntacticError
		semanticErr *jsonv2.SemanticError
	)
	switch {
	case errors.Is(err, io.EOF):
		return stockalert.Invalid("body", "is empty: expected a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return stockalert.Invalid("body", "is truncated: the JSON object is not closed")
	case errors.As(err, &syntaxErr):
		field := fieldOf(syntaxErr.JSONPointer)
		switch {
		case errors.Is(err, jsontext.ErrDuplicateName) && field != "":
			return stockalert.Invalid(field, "is given more than once (at byte %d)", syntaxErr.ByteOffset)
		case isInvalidText(syntaxErr.Err):
			if field == "" {
				field = "body"
			}
			return stockalert.Invalid(field, "is not valid Unicode text: invalid UTF-8 or a lone UTF-16 surrogate (at byte %d)", syntaxErr.ByteOffset)
		}
		return stockalert.Invalid("body", "is not valid JSON at byte %d: %v", syntaxErr.ByteOffset, syntaxErr.Err)
	case errors.As(err, &semanticErr):
		field := fieldOf(semanticErr.JSONPointer)
		switch {
		case errors.Is(err, jsonv2.ErrUnknownName):
			return stockalert.Invalid(field, "is not a known field (names are case-sensitive)")
		case semanticErr.GoType == nil:
		case field != "" && errors.Is(err, strconv.ErrRange):
			return stockalert.Invalid(field, "is out of range: must be %s", numberRange(semanticErr.GoType))
		case field == "":
			return stockalert.Invalid("body", "must be a JSON object, not a JSON %s", kindName(semanticErr.JSONKind))
		case semanticErr.GoType == reflect.TypeFor[time.Time]():
			// The decoder reads a time.Time from an RFC 3339 string; its Go kind (struct) says nothing to a client.
			if semanticErr.JSONKind == '"' {
				return stockalert.Invalid(field, "must be an RFC 3339 time such as 2027-01-31T00:00:00Z")
			}
			return stockalert.Invalid(field, "must be an RFC 3339 time such as 2027-01-31T00:00:00Z, not a JSON %s", kindName(semanticErr.JSONKind))
		default:
			return stockalert.Invalid(field, "must be %s, not a JSON %s", jsonKind(semanticErr.GoType.Kind().String()), kindName(semanticErr.JSONKind))
		}
	}
	// What is left is not the client's input: dst not being a pointer (a programming error).
	return fmt.Errorf("decode JSON body: %w", err)
}

// isInvalidText tells the decoder's errors for text that is not Unicode: invalid UTF-8, or a \u escape
// that is not valid UTF-16 (a lone surrogate). The module exports no sentinel for them (its internal
// jsonwire.ErrInvalidUTF8 is not public), so their fixed texts are matched; the tests pin them.
func isInvalidText(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "invalid UTF-8") || strings.Contains(msg, "surrogate")
}

// fieldOf turns an RFC 6901 JSON Pointer ("/thresholds/high") into the dotted path the API names
// fields with ("thresholds.high"); the empty pointer (the whole body) is "".
func fieldOf(p jsontext.Pointer) string {
	var names []string
	for name := range p.Tokens() {
		names = append(names, name)
	}
	return strings.Join(names, ".")
}

// kindName names the kind of a JSON value as a client would: "object", "array", "string", …
func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "value"
}

// numberRange names the numbers a numeric Go type holds, for a JSON number that does not fit it
// (1e400 in a float64, 300 in a uint8).
func numberRange(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Float32:
		return fmt.Sprintf("a number between %g and %g", -math.MaxFloat32, math.MaxFloat32)
	case reflect.Float64:
		return fmt.Sprintf("a number between %g and %g", -math.MaxFloat64, math.MaxFloat64)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		return fmt.Sprintf("an integer between %d and %d", int64(-1)<<(bits-1), int64(1)<<(bits-1)-1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return fmt.Sprintf("an integer between 0 and %d", uint64(1)<<t.Bits()-1)
	}
	return "a smaller value"
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
