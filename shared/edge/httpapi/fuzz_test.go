package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
)

// FuzzUserCommands feeds arbitrary bodies to the user-commands handler over a real SQLite store, on a
// route, with headers, chosen by the bits of route:
//
//	bits 0-2  endpoint: 0 POST /users, 1 PATCH /users/{e}, 2 PUT …/tickers/{t}, 3 DELETE …/tickers/{t},
//	          4 POST …/telegram-link, 5 DELETE /users/{stranger}, 6 PATCH /users/{e2}, 7 GET /users
//	bit 3     send an Idempotency-Key (one of four, so that keys are reused)
//	bit 4     send a wrong token instead of the right one
//	bits 5-6  Content-Type: application/json, none, application/json; charset=utf-8, text/plain
//	bit 7     the body's first line is the {e} or {t} path segment instead of a fixed one, as is
//	          (unescaped: it may hold "..", "/", "%2F" or a query); targets that do not parse are skipped
//
// No input may yield a 5xx, and every answer but a 204 must be a JSON object. The seed corpus is in
// testdata/fuzz/FuzzUserCommands; run the fuzzer with
//
//	go test -run '^$' -fuzz FuzzUserCommands -fuzztime 3m ./shared/edge/httpapi
func FuzzUserCommands(f *testing.F) {
	a := newAPI(f, storetest.OpenSQLite)
	first := a.register(`{"email":"fuzz@example.com","ticker":"AAPL","high_value":200,"low_value":100}`)
	second := a.register(`{"email":"fuzz2@example.com","ticker":"MSFT"}`)
	contentTypes := []string{"application/json", "", "application/json; charset=utf-8", "text/plain"}

	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		email, ticker := "fuzz@example.com", "NVDA"
		if route&0x80 != 0 {
			if line, rest, ok := bytes.Cut(body, []byte("\n")); ok {
				email, ticker = string(line), string(line)
				body = rest
			}
		}
		token := first.Token
		var method, path string
		switch route & 7 {
		case 0:
			method, path = "POST", "/users"
		case 1:
			method, path = "PATCH", "/users/"+email
		case 2:
			method, path = "PUT", "/users/fuzz2@example.com/tickers/"+ticker
			token = second.Token
		case 3:
			method, path = "DELETE", "/users/fuzz2@example.com/tickers/"+ticker
			token = second.Token
		case 4:
			method, path = "POST", "/users/"+email+"/telegram-link"
		case 5:
			method, path = "DELETE", "/users/stranger@example.com"
		case 6:
			method, path = "PATCH", "/users/fuzz2@example.com"
			token = second.Token
		case 7:
			method, path = "GET", "/users"
		}
		target, err := url.ParseRequestURI(path)
		if err != nil {
			t.Skip("not a request target")
		}
		r := httptest.NewRequest(method, "/", bytes.NewReader(body))
		r.URL = target
		if route&0x08 != 0 {
			r.Header.Set("Idempotency-Key", fmt.Sprintf("fuzz-key-7d3e2b90-%d", len(body)%4))
		}
		if route&0x10 != 0 {
			token = flip(token)
		}
		r.Header.Set("Authorization", "Bearer "+token)
		if ct := contentTypes[(route>>5)&3]; ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		w := httptest.NewRecorder()
		a.commands.ServeHTTP(w, r)

		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s\nlogs:\n%s", method, path, body, w.Code, w.Body, a.logs.String())
		}
		if w.Code == http.StatusNoContent {
			if w.Body.Len() != 0 {
				t.Fatalf("%s %s: 204 with a body %q", method, path, w.Body)
			}
			return
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("%s %s: %d with Content-Type %q", method, path, w.Code, ct)
		}
		var answer map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
			t.Fatalf("%s %s: %d with a body that is not a JSON object: %v\n%s", method, path, w.Code, err, w.Body)
		}
		if w.Code >= 400 {
			if msg, _ := answer["error"].(string); msg == "" {
				t.Fatalf("%s %s: %d without an error message: %s", method, path, w.Code, w.Body)
			}
		}
	})
}
