package provider_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/stockalert/stockalert/localfaas/internal/lftest"
)

// echoed is what the test function answers to any path it has no route for.
type echoed struct {
	Method, Path, Query, Body string
	Headers                   http.Header
}

// answer is the status and headers of an answer.
type answer struct {
	StatusCode int
	Header     http.Header
}

func do(t *testing.T, req *http.Request, client *http.Client) (answer, echoed) {
	t.Helper()
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close() //nolint:errcheck // a test's answer
	var e echoed
	if req.Method != http.MethodHead && res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
			t.Fatalf("%s %s: decode: %v", req.Method, req.URL, err)
		}
	}
	return answer{StatusCode: res.StatusCode, Header: res.Header}, e
}

// The gateway's call-id middleware: X-Call-Id (new, or the caller's) and X-Start-Time (Unix ns) on the
// request the function gets and on the answer.
func TestInvocationCarriesCallIDAndStartTime(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	gw.DeployAndWait(t, "echo")

	before := time.Now().UnixNano()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, gw.URL+"/function/echo", strings.NewReader("hi"))
	res, e := do(t, req, http.DefaultClient)
	after := time.Now().UnixNano()
	id := res.Header.Get("X-Call-Id")
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("answer's X-Call-Id %q is not a UUID: %v", id, err)
	}
	if got := e.Headers.Get("X-Call-Id"); got != id {
		t.Fatalf("function saw X-Call-Id %q, the caller got %q", got, id)
	}
	start, err := strconv.ParseInt(res.Header.Get("X-Start-Time"), 10, 64)
	if err != nil || start < before || start > after {
		t.Fatalf("answer's X-Start-Time %q is not a Unix-nanosecond time within the call [%d, %d]", res.Header.Get("X-Start-Time"), before, after)
	}
	if got := e.Headers.Get("X-Start-Time"); got != res.Header.Get("X-Start-Time") {
		t.Fatalf("function saw X-Start-Time %q, the caller got %q", got, res.Header.Get("X-Start-Time"))
	}

	// A caller's id is kept; two calls without one get different ids.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, gw.URL+"/function/echo", nil)
	req.Header.Set("X-Call-Id", "caller-chosen-id")
	res, e = do(t, req, http.DefaultClient)
	if res.Header.Get("X-Call-Id") != "caller-chosen-id" || e.Headers.Get("X-Call-Id") != "caller-chosen-id" || len(e.Headers.Values("X-Call-Id")) != 1 {
		t.Fatalf("caller's X-Call-Id: answer %q, function saw %q", res.Header.Get("X-Call-Id"), e.Headers.Values("X-Call-Id"))
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, gw.URL+"/function/echo", nil)
	if res2, _ := do(t, req, http.DefaultClient); res2.Header.Get("X-Call-Id") == id {
		t.Fatalf("two calls got the same X-Call-Id %q", id)
	}
}

// Every method reaches the function, those faas-provider's proxy relays and the others.
func TestEveryMethodIsProxied(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	gw.DeployAndWait(t, "echo")
	for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "REPORT"} {
		req, _ := http.NewRequestWithContext(t.Context(), method, gw.URL+"/function/echo/a/b?x=1", nil)
		req.Header.Set("X-Custom", "v")
		res, e := do(t, req, http.DefaultClient)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", method, res.StatusCode)
		}
		if res.Header.Get("X-Call-Id") == "" {
			t.Fatalf("%s: no X-Call-Id on the answer", method)
		}
		if method == http.MethodHead {
			continue
		}
		if e.Method != method || e.Path != "/a/b" || e.Query != "x=1" || e.Headers.Get("X-Custom") != "v" || e.Headers.Get("X-Call-Id") == "" {
			t.Fatalf("%s: function saw %+v", method, e)
		}
	}
}

// A function's redirect comes back to the caller; the gateway does not follow it.
func TestRedirectIsPassedBack(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	gw.DeployAndWait(t, "echo")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, gw.URL+"/function/echo/redirect?to=https://example.com/elsewhere", nil)
	res, _ := do(t, req, noFollow)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "https://example.com/elsewhere" {
		t.Fatalf("status %d, Location %q; want 302 to https://example.com/elsewhere", res.StatusCode, res.Header.Get("Location"))
	}
}
