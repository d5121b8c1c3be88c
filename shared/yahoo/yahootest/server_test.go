package yahootest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

var at = time.Date(2025, 3, 14, 19, 59, 30, 0, time.UTC)

func get(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

func TestChartWireFormat(t *testing.T) {
	s := yahootest.NewServer(t)
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %s is not on loopback", s.URL())
	}
	s.SetQuote("aapl", 213.49, "USD", at)
	status, ctype, body := get(t, s.URL()+"/v8/finance/chart/AAPL?range=1d&interval=1m")
	if status != 200 || !strings.HasPrefix(ctype, "application/json") {
		t.Fatalf("status %d, content type %q", status, ctype)
	}
	// Decode generically, the way any client would see it.
	var doc struct {
		Chart struct {
			Result []struct {
				Meta       map[string]any `json:"meta"`
				Timestamp  []int64        `json:"timestamp"`
				Indicators struct {
					Quote []map[string][]*float64 `json:"quote"`
				} `json:"indicators"`
			} `json:"result"`
			Error any `json:"error"`
		} `json:"chart"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if doc.Chart.Error != nil || len(doc.Chart.Result) != 1 {
		t.Fatalf("chart = %s", body)
	}
	r := doc.Chart.Result[0]
	if r.Meta["symbol"] != "AAPL" || r.Meta["currency"] != "USD" || r.Meta["regularMarketPrice"] != 213.49 ||
		r.Meta["regularMarketTime"] != float64(at.Unix()) || r.Meta["dataGranularity"] != "1m" || r.Meta["range"] != "1d" {
		t.Errorf("meta = %v", r.Meta)
	}
	for _, k := range []string{"exchangeName", "instrumentType", "gmtoffset", "exchangeTimezoneName", "currentTradingPeriod", "validRanges", "previousClose"} {
		if _, ok := r.Meta[k]; !ok {
			t.Errorf("meta lacks %s", k)
		}
	}
	if len(r.Timestamp) == 0 || len(r.Indicators.Quote) != 1 {
		t.Fatalf("timestamps %v, quote %v", r.Timestamp, r.Indicators.Quote)
	}
	closes := r.Indicators.Quote[0]["close"]
	if len(closes) != len(r.Timestamp) || *closes[len(closes)-1] != 213.49 {
		t.Errorf("closes %v do not end at the price or do not match %d timestamps", closes, len(r.Timestamp))
	}
	if last := r.Timestamp[len(r.Timestamp)-1]; last > at.Unix() || last <= at.Unix()-60 {
		t.Errorf("last bar at %d, quote at %d", last, at.Unix())
	}
	if s.Requests("AAPL") != 1 || s.Requests("aapl") != 1 || s.Requests("") != 1 {
		t.Errorf("requests counted %d/%d", s.Requests("AAPL"), s.Requests(""))
	}
}

func TestUnknownSymbolAndBadInput(t *testing.T) {
	s := yahootest.NewServer(t)
	status, _, body := get(t, s.URL()+"/v8/finance/chart/NOPE?range=1d&interval=1m")
	want := `{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}`
	if status != 404 || strings.TrimSpace(string(body)) != want {
		t.Errorf("unknown symbol: %d %s", status, body)
	}
	s.SetQuote("AAPL", 1, "USD", at)
	status, _, body = get(t, s.URL()+"/v8/finance/chart/AAPL?range=1d&interval=7m")
	if status != 400 || !strings.Contains(string(body), `"code":"Bad Request"`) {
		t.Errorf("bad interval: %d %s", status, body)
	}
	status, _, _ = get(t, s.URL()+"/v6/finance/quote?symbols=AAPL")
	if status != 404 {
		t.Errorf("other path: %d", status)
	}
	resp, err := http.Post(s.URL()+"/v8/finance/chart/AAPL", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}

func TestInjectedFailuresAreUsedInOrderThenClear(t *testing.T) {
	s := yahootest.NewServer(t)
	s.SetQuote("AAPL", 1, "USD", at)
	s.SetQuote("MSFT", 2, "USD", at)
	s.Fail("AAPL", 503, 2)
	s.Fail("", 429, 1)

	// MSFT skips AAPL's failures and takes the any-symbol one.
	if status, _, body := get(t, s.URL()+"/v8/finance/chart/MSFT"); status != 429 || string(body) != "Too Many Requests\r\n" {
		t.Errorf("MSFT first: %d %q", status, body)
	}
	if status, _, _ := get(t, s.URL()+"/v8/finance/chart/MSFT"); status != 200 {
		t.Errorf("MSFT second: %d", status)
	}
	for i := 0; i < 2; i++ {
		if status, ctype, _ := get(t, s.URL()+"/v8/finance/chart/AAPL"); status != 503 || ctype != "text/html" {
			t.Errorf("AAPL %d: %d %s", i, status, ctype)
		}
	}
	if status, _, _ := get(t, s.URL()+"/v8/finance/chart/AAPL"); status != 200 {
		t.Errorf("AAPL after failures: %d", status)
	}
}

func TestHangUntilClientGivesUp(t *testing.T) {
	s := yahootest.NewServer(t)
	s.SetQuote("AAPL", 1, "USD", at)
	s.Hang("AAPL", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/v8/finance/chart/AAPL", nil)
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		res.Body.Close()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if status, _, _ := get(t, s.URL()+"/v8/finance/chart/AAPL"); status != 200 {
		t.Errorf("after the hang: %d", status)
	}
}

func TestCloseReleasesHangingRequests(t *testing.T) {
	s := yahootest.NewServer(t)
	s.Hang("", 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get(s.URL() + "/v8/finance/chart/AAPL")
		if err == nil {
			resp.Body.Close()
		}
	}()
	require.Eventually(t, func() bool { return s.Requests("AAPL") == 1 }, 10*time.Second, 5*time.Millisecond, "request never arrived")
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked on a hanging request")
	}
	<-done // the hanging request is over, one way or another
}

func TestRawAnswerAndUserAgents(t *testing.T) {
	s := yahootest.NewServer(t)
	s.SetRaw("x", 200, `{"chart":{}}`)
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v8/finance/chart/X", nil)
	req.Header.Set("User-Agent", "ua-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"chart":{}}` {
		t.Errorf("raw body = %s", body)
	}
	s.SetQuote("X", 5, "EUR", at) // replaces the raw answer
	if status, _, body := get(t, s.URL()+"/v8/finance/chart/X"); status != 200 || !strings.Contains(string(body), `"currency":"EUR"`) {
		t.Errorf("after SetQuote: %d %s", status, body)
	}
	if uas := s.UserAgents(); len(uas) != 2 || uas[0] != "ua-1" || !strings.HasPrefix(uas[1], "Go-http-client") {
		t.Errorf("UserAgents = %q", uas)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := yahootest.NewServer(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				s.SetQuote("AAPL", float64(1+i), "USD", at)
				s.Fail("MSFT", 500, 1)
				resp, err := http.Get(s.URL() + "/v8/finance/chart/AAPL")
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				_ = s.Requests("AAPL")
			}
		}()
	}
	wg.Wait()
	if n := s.Requests(""); n != 80 {
		t.Errorf("requests = %d, want 80", n)
	}
}

func TestPreviousCloseFields(t *testing.T) {
	s := yahootest.NewServer(t)
	meta := func() map[string]any {
		t.Helper()
		status, _, body := get(t, s.URL()+"/v8/finance/chart/AAPL?range=1d&interval=1m")
		require.Equal(t, 200, status)
		var doc struct {
			Chart struct {
				Result []struct {
					Meta map[string]any `json:"meta"`
				} `json:"result"`
			} `json:"chart"`
		}
		require.NoError(t, json.Unmarshal(body, &doc))
		require.Len(t, doc.Chart.Result, 1)
		return doc.Chart.Result[0].Meta
	}

	s.SetQuote("AAPL", 200, "USD", at)
	m := meta()
	require.Equal(t, 199.0, m["chartPreviousClose"], "default: both fields, at 99.5 % of the price")
	require.Equal(t, 199.0, m["previousClose"])

	s.SetPreviousClose("aapl", 190.5, 0)
	m = meta()
	require.Equal(t, 190.5, m["chartPreviousClose"])
	require.NotContains(t, m, "previousClose")

	s.SetQuote("AAPL", 201, "USD", at) // a new price keeps the previous-close setting
	s.SetPreviousClose("AAPL", 0, 188)
	m = meta()
	require.NotContains(t, m, "chartPreviousClose")
	require.Equal(t, 188.0, m["previousClose"])
	require.Equal(t, 201.0, m["regularMarketPrice"])

	s.SetPreviousClose("AAPL", 0, 0)
	m = meta()
	require.NotContains(t, m, "chartPreviousClose")
	require.NotContains(t, m, "previousClose")
}
