package httpjson_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/stockalert"
)

type registerRequest struct {
	Email      string `json:"email"`
	Ticker     string `json:"ticker"`
	Thresholds struct {
		High *float64 `json:"high"`
	} `json:"thresholds"`
	Interval int64      `json:"interval"`
	Until    *time.Time `json:"until"`
}

func TestDecodeJSON(t *testing.T) {
	for _, tc := range []struct {
		name, body, field, reason string
	}{
		{"empty", "", "body", "is empty"},
		{"white space only", "  \n", "body", "is empty"},
		{"malformed", `{"email": x}`, "body", "not valid JSON at byte 10"},
		{"truncated", `{"email": "a@b.c"`, "body", "is truncated"},
		{"array", `[1,2]`, "body", "must be a JSON object, not a JSON array"},
		{"unknown field", `{"email":"a@b.c","tickr":"AAPL"}`, "tickr", "is not a known field"},
		{"wrong type", `{"ticker": 12}`, "ticker", "must be a string, not a JSON number"},
		{"unknown nested field", `{"thresholds": {"hi": 1}}`, "thresholds.hi", "is not a known field"},
		{"object for a string", `{"email": {}}`, "email", "must be a string, not a JSON object"},
		{"nested wrong type", `{"thresholds": {"high": "10"}}`, "thresholds.high", "must be a number, not a JSON string"},
		{"float for int", `{"interval": 1.5}`, "interval", "must be an integer"},
		{"number beyond float64", `{"thresholds": {"high": 1e400}}`, "thresholds.high", "is out of range: must be a number between -1.7976931348623157e+308 and 1.7976931348623157e+308"},
		{"negative number beyond float64", `{"thresholds": {"high": -1e400}}`, "thresholds.high", "is out of range"},
		{"integer beyond int64", `{"interval": 99999999999999999999}`, "interval", "is out of range: must be an integer between -9223372036854775808 and 9223372036854775807"},
		{"time not RFC 3339", `{"until": "tomorrow"}`, "until", "must be an RFC 3339 time such as 2027-01-31T00:00:00Z"},
		{"date without time", `{"until": "2027-01-31"}`, "until", "must be an RFC 3339 time such as"},
		{"number for a time", `{"until": 1767225600}`, "until", "must be an RFC 3339 time such as 2027-01-31T00:00:00Z, not a JSON number"},
		{"two objects", `{"email":"a@b.c"} {"email":"d@e.f"}`, "body", "single JSON object"},
		{"trailing garbage", `{"email":"a@b.c"} x`, "body", "single JSON object"},
		// Strict decoding: what is stored is exactly what was sent, and one reading is the only one.
		{"invalid UTF-8 in a value", "{\"email\":\"a\xffb@example.com\"}", "email", "not valid Unicode text"},
		{"invalid UTF-8 in a nested value", "{\"thresholds\":{\"high\":1},\"ticker\":\"A\xc3\"}", "ticker", "not valid Unicode text"},
		{"invalid UTF-8 in a name", "{\"em\xffail\":\"a@b.c\"}", "body", "not valid Unicode text"},
		{"lone surrogate escape", `{"email":"a\udc00b@example.com"}`, "email", "not valid Unicode text"},
		{"duplicate name", `{"interval":1,"email":"a@b.c","email":"d@e.f"}`, "email", "more than once"},
		{"duplicate nested name", `{"thresholds":{"high":-5,"high":7}}`, "thresholds.high", "more than once"},
		{"case variant of a known name", `{"email":"a@x.com","EMAIL":"b@x.com"}`, "EMAIL", "not a known field"},
		{"case variant alone", `{"Email":"a@x.com"}`, "Email", "not a known field"},
		{"nested case variant", `{"thresholds":{"HIGH":1}}`, "thresholds.HIGH", "not a known field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dst registerRequest
			err := httpjson.DecodeJSON(strings.NewReader(tc.body), &dst, 1024)
			v, ok := stockalert.AsValidation(err)
			if !ok {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			if v.Field != tc.field || !strings.Contains(v.Reason, tc.reason) {
				t.Fatalf("got field %q reason %q, want field %q reason containing %q", v.Field, v.Reason, tc.field, tc.reason)
			}
		})
	}

	t.Run("valid", func(t *testing.T) {
		var dst registerRequest
		body := `{"email":"a@b.c","ticker":"AAPL","thresholds":{"high":10.5},"interval":60}` + "\n"
		if err := httpjson.DecodeJSON(strings.NewReader(body), &dst, int64(len(body))); err != nil {
			t.Fatal(err)
		}
		if dst.Email != "a@b.c" || dst.Ticker != "AAPL" || dst.Thresholds.High == nil || *dst.Thresholds.High != 10.5 || dst.Interval != 60 {
			t.Fatalf("decoded %+v", dst)
		}
	})

	t.Run("over the limit", func(t *testing.T) {
		var dst registerRequest
		body := `{"email":"` + strings.Repeat("a", 100) + `@b.c"}`
		err := httpjson.DecodeJSON(strings.NewReader(body), &dst, 50)
		if !errors.Is(err, httpjson.ErrBodyTooLarge) {
			t.Fatalf("err = %v, want ErrBodyTooLarge", err)
		}
		if _, ok := stockalert.AsValidation(err); ok {
			t.Error("a body over the limit reported as a validation error (400 instead of 413)")
		}
	})

	t.Run("trailing data over the limit", func(t *testing.T) {
		var dst registerRequest
		body := `{"email":"a@b.c"}` + strings.Repeat(" ", 100)
		if err := httpjson.DecodeJSON(strings.NewReader(body), &dst, 20); !errors.Is(err, httpjson.ErrBodyTooLarge) {
			t.Fatalf("err = %v, want ErrBodyTooLarge", err)
		}
	})

	t.Run("MaxBytesReader of the middleware", func(t *testing.T) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"email":"a@b.c"}`))
		body := http.MaxBytesReader(rec, req.Body, 5)
		var dst registerRequest
		err := httpjson.DecodeJSON(body, &dst, 1024)
		var mb *http.MaxBytesError
		if !errors.Is(err, httpjson.ErrBodyTooLarge) || !errors.As(err, &mb) || mb.Limit != 5 {
			t.Fatalf("err = %v, want ErrBodyTooLarge wrapping a MaxBytesError of 5", err)
		}
	})
}

func TestWriteJSONAndError(t *testing.T) {
	rec := httptest.NewRecorder()
	httpjson.WriteError(rec, http.StatusBadRequest, "invalid ticker", "ticker")
	if rec.Code != http.StatusBadRequest || rec.Body.String() != `{"error":"invalid ticker","field":"ticker"}`+"\n" {
		t.Fatalf("WriteError = %d %q", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}

	rec = httptest.NewRecorder()
	httpjson.WriteError(rec, http.StatusNotFound, "not found", "")
	if rec.Body.String() != `{"error":"not found"}`+"\n" {
		t.Fatalf("WriteError without field = %q", rec.Body.String())
	}

	rec = httptest.NewRecorder()
	httpjson.WriteJSON(rec, http.StatusOK, map[string]any{"bad": func() {}})
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Fatalf("unencodable value = %d %q", rec.Code, rec.Body.String())
	}
}

func TestBodyTooLargeHasOneAnswer(t *testing.T) {
	read := func(limit int64, body string) error {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		_, err := httpjson.ReadBody(httptest.NewRecorder(), req, limit)
		return err
	}
	var dst struct {
		K string `json:"k"`
	}
	for name, err := range map[string]error{
		"ReadBody":   read(8, `{"k":"0123456789"}`),
		"DecodeJSON": httpjson.DecodeJSON(strings.NewReader(`{"k":"0123456789"}`), &dst, 8),
		"wrapped by an edge": fmt.Errorf("read message: %w",
			httpjson.DecodeJSON(http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader(`{"k":"0123456789"}`)), 8), &dst, 1024)),
	} {
		t.Run(name, func(t *testing.T) {
			if !errors.Is(err, httpjson.ErrBodyTooLarge) || !errors.Is(err, faas.ErrBodyTooLarge) {
				t.Fatalf("err = %v, want ErrBodyTooLarge", err)
			}
			rec := httptest.NewRecorder()
			httpjson.WriteBodyTooLarge(rec, err)
			want := `{"error":"request body too large: larger than 8 bytes","field":"body"}` + "\n"
			if rec.Code != http.StatusRequestEntityTooLarge || rec.Body.String() != want {
				t.Fatalf("WriteBodyTooLarge = %d %s, want 413 %s", rec.Code, rec.Body, want)
			}
		})
	}

	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("12345678"))
	if body, err := httpjson.ReadBody(httptest.NewRecorder(), req, 8); err != nil || string(body) != "12345678" {
		t.Fatalf("ReadBody at the limit = %q, %v", body, err)
	}
}
