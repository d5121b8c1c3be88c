package faas_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/internal/logcapture"
	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/faas"
)

type server struct {
	url    string
	logs   *logcapture.Buffer
	cancel context.CancelFunc
	done   chan error
	// stopped is set by stop, whose caller checks what Serve returned.
	stopped bool
}

// testConfig is the default config with room for a slow machine and no lock file.
func testConfig() faas.Config {
	cfg := faas.DefaultConfig()
	cfg.ReadTimeout = 30 * time.Second
	cfg.WriteTimeout = 30 * time.Second
	cfg.ExecTimeout = 20 * time.Second
	return cfg
}

func startServer(t *testing.T, cfg faas.Config, h http.Handler, opts ...faas.Option) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logcapture.Buffer{}
	cfg.LogLevel = slog.LevelDebug
	logger := faas.NewLoggerTo(logs, "test-fn", cfg)
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{url: "http://" + ln.Addr().String(), logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- faas.Serve(ctx, cfg, "test-fn", h, logger, prometheus.NewRegistry(), append(opts, faas.WithListener(ln))...)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-s.done:
			// A test that stopped the server itself has judged what Serve returned.
			if err != nil && !s.stopped {
				t.Errorf("Serve returned %v after a clean cancel", err)
			}
		case <-time.After(time.Minute):
			t.Error("Serve did not return within a minute of cancel")
		}
	})
	waitFor(t, "health 200", func() bool { return get(t, s.url+faas.HealthPath).StatusCode == http.StatusOK })
	return s
}

// stop cancels Serve and returns its result.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	s.stopped = true
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(time.Minute):
		t.Fatal("Serve did not return within a minute of cancel")
		return nil
	}
}

var client = &http.Client{Timeout: 30 * time.Second}

type response struct {
	StatusCode int
	Header     http.Header
	Body       string
	Err        error
}

func do(req *http.Request) response {
	res, err := client.Do(req)
	if err != nil {
		return response{Err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{StatusCode: res.StatusCode, Header: res.Header, Body: string(b), Err: err}
}

// get and post are safe in any goroutine: a request that cannot be built is reported in Err.
func get(_ *testing.T, url string) response { return send(http.MethodGet, url, nil) }

func post(_ *testing.T, url string, body io.Reader) response { return send(http.MethodPost, url, body) }

func send(method, url string, body io.Reader) response {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return response{Err: err}
	}
	return do(req)
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 30*time.Second, 10*time.Millisecond, "gave up waiting for %s", what)
}

func wantErrorBody(t *testing.T, r response, status int, msgPart, field string) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("request failed: %v", r.Err)
	}
	if r.StatusCode != status {
		t.Fatalf("status = %d, want %d (body %s)", r.StatusCode, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", ct)
	}
	var body struct {
		Error string `json:"error"`
		Field string `json:"field"`
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("body %q is not a JSON error: %v", r.Body, err)
	}
	if !strings.Contains(body.Error, msgPart) || body.Field != field {
		t.Errorf("body = %+v, want error containing %q and field %q", body, msgPart, field)
	}
}

// waitForMetric waits until GET /metrics shows line (a series and its value): the metrics of a request
// are recorded once the middleware returns, which may be just after the client has its answer.
func waitForMetric(t *testing.T, s *server, line string) {
	t.Helper()
	var last string
	cond := func() bool { last = get(t, s.url+faas.MetricsPath).Body; return strings.Contains(last, line) }
	if !assert.Eventually(t, cond, 30*time.Second, 10*time.Millisecond) {
		t.Fatalf("metrics never showed %s; last:\n%s", line, grepLines(last, "faas_http_requests_total"))
	}
}

func grepLines(text, part string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, part) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestHealthMetricsAndRouteLabels(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		httpjson.WriteJSON(w, http.StatusOK, map[string]string{"hello": r.PathValue("name")})
	})
	s := startServer(t, testConfig(), mux)

	r := get(t, s.url+faas.HealthPath)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `"ok"`) {
		t.Fatalf("health = %d %s", r.StatusCode, r.Body)
	}
	for _, name := range []string{"ann", "bob", "cy"} {
		if r := get(t, s.url+"/hello/"+name); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, name) {
			t.Fatalf("GET /hello/%s = %d %s", name, r.StatusCode, r.Body)
		}
	}
	if r := get(t, s.url+"/nowhere"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /nowhere = %d", r.StatusCode)
	}

	m := get(t, s.url+faas.MetricsPath)
	if m.StatusCode != http.StatusOK {
		t.Fatalf("metrics = %d", m.StatusCode)
	}
	for _, want := range []string{
		`faas_http_requests_total{code="200",function="test-fn",method="get",route="GET /hello/{name}"} 3`,
		`faas_http_requests_total{code="404",function="test-fn",method="get",route="unmatched"} 1`,
		`faas_http_request_duration_seconds_count{function="test-fn",method="get",route="GET /hello/{name}"} 3`,
		`faas_http_requests_in_flight{function="test-fn"} 0`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(m.Body, `route="/hello/ann"`) {
		t.Error("a raw path became a route label")
	}

	logs := s.logs.String()
	if !strings.Contains(logs, `"msg":"request","function":"test-fn","method":"GET","path":"/hello/ann","route":"GET /hello/{name}","status":200`) {
		t.Errorf("no request log line for /hello/ann in:\n%s", logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"msg":"health"`) && !strings.Contains(line, `"level":"DEBUG"`) {
			t.Errorf("health check logged above debug: %s", line)
		}
	}
}

func TestReadinessCheckGatesHealth(t *testing.T) {
	var mu sync.Mutex
	dbErr := errors.New("dial tcp: connection refused")
	check := func(_ context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		return dbErr
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logcapture.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- faas.Serve(ctx, testConfig(), "fn", http.NotFoundHandler(), faas.NewLoggerTo(logs, "fn", testConfig()),
			prometheus.NewRegistry(), faas.WithListener(ln), faas.WithReadiness("database", check))
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v after a clean cancel", err)
		}
	}()
	url := "http://" + ln.Addr().String() + faas.HealthPath

	var r response
	waitFor(t, "health to answer", func() bool { r = get(t, url); return r.Err == nil })
	wantErrorBody(t, r, http.StatusServiceUnavailable, "not ready: database", "")
	if strings.Contains(r.Body, "connection refused") {
		t.Error("health leaks the check's error to the client")
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Error("failed check not logged")
	}

	mu.Lock()
	dbErr = nil
	mu.Unlock()
	if r := get(t, url); r.StatusCode != http.StatusOK {
		t.Fatalf("health after the check passes = %d %s", r.StatusCode, r.Body)
	}
}

func TestBodyLimit(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 64
	var reached sync.Map
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Store(r.URL.Path, true)
		var v map[string]any
		if err := httpjson.DecodeJSON(r.Body, &v, cfg.MaxBodyBytes); err != nil {
			if errors.Is(err, httpjson.ErrBodyTooLarge) {
				httpjson.WriteBodyTooLarge(w, err)
				return
			}
			httpjson.WriteError(w, http.StatusBadRequest, err.Error(), "body")
			return
		}
		httpjson.WriteJSON(w, http.StatusOK, v)
	})
	s := startServer(t, cfg, h)

	big := `{"k":"` + strings.Repeat("x", 100) + `"}`
	// Declared length over the limit: refused before the handler runs.
	declared := post(t, s.url+"/declared", strings.NewReader(big))
	wantErrorBody(t, declared, http.StatusRequestEntityTooLarge, "larger than 64 bytes", "body")
	if _, ok := reached.Load("/declared"); ok {
		t.Error("handler ran for a body whose declared length is over the limit")
	}
	// Chunked (no length): the handler's decoder hits the cap.
	chunked := post(t, s.url+"/chunked", io.MultiReader(strings.NewReader(big)))
	wantErrorBody(t, chunked, http.StatusRequestEntityTooLarge, "too large", "body")
	// One text, whoever answers.
	if declared.Body != chunked.Body {
		t.Errorf("the runtime answered %s, the edge %s: want one answer", declared.Body, chunked.Body)
	}
	// A body under the limit passes.
	if r := post(t, s.url+"/small", strings.NewReader(`{"k":"v"}`)); r.StatusCode != http.StatusOK {
		t.Fatalf("small body = %d %s", r.StatusCode, r.Body)
	}
	waitForMetric(t, s, `faas_http_requests_total{code="413",function="test-fn",method="post",route="unmatched"} 2`)
}

func TestExecTimeoutAnswers504AndFailsLateWrites(t *testing.T) {
	cfg := testConfig()
	cfg.ExecTimeout = 300 * time.Millisecond
	lateWrite := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // a handler that honours its context, but only once it is too late
		w.Header().Set("X-Late", "yes")
		_, err := w.Write([]byte("too late"))
		lateWrite <- err
	})
	s := startServer(t, cfg, h)

	r := get(t, s.url+"/slow")
	wantErrorBody(t, r, http.StatusGatewayTimeout, "exceeded exec_timeout of 300ms", "")
	if r.Header.Get("X-Late") != "" {
		t.Error("the late handler's header reached the client")
	}
	select {
	case err := <-lateWrite:
		if !errors.Is(err, http.ErrHandlerTimeout) {
			t.Errorf("late write error = %v, want http.ErrHandlerTimeout", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("handler never saw its context end")
	}
	waitForMetric(t, s, `faas_http_requests_total{code="504",function="test-fn",method="get",route="unmatched"} 1`)
}

func TestExecTimeoutKeepsAFastResponseIntact(t *testing.T) {
	cfg := testConfig()
	cfg.ExecTimeout = 10 * time.Second
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Fn", "fast")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "made")
	})
	s := startServer(t, cfg, h)
	r := post(t, s.url+"/", nil)
	if r.StatusCode != http.StatusCreated || r.Body != "made" || r.Header.Get("X-Fn") != "fast" || r.Header.Get("Content-Length") != "4" {
		t.Fatalf("got %d %q %v", r.StatusCode, r.Body, r.Header)
	}
}

func TestMaxInflight(t *testing.T) {
	cfg := testConfig()
	cfg.MaxInflight = 1
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			entered <- struct{}{}
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
	})
	s := startServer(t, cfg, h)

	first := make(chan response, 1)
	go func() { first <- get(t, s.url+"/block") }()
	<-entered
	r := get(t, s.url+"/other")
	wantErrorBody(t, r, http.StatusTooManyRequests, "max_inflight 1", "")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if h := get(t, s.url+faas.HealthPath); h.StatusCode != http.StatusOK {
		t.Errorf("health counted against max_inflight: %d", h.StatusCode)
	}
	close(release)
	if r := <-first; r.StatusCode != http.StatusNoContent {
		t.Fatalf("blocked request = %d %v", r.StatusCode, r.Err)
	}
	if r := get(t, s.url+"/other"); r.StatusCode != http.StatusNoContent {
		t.Fatalf("after release = %d", r.StatusCode)
	}
	waitForMetric(t, s, `faas_http_requests_total{code="429",function="test-fn",method="get",route="unmatched"} 1`)
	waitForMetric(t, s, `faas_http_requests_total{code="204",function="test-fn",method="get",route="unmatched"} 2`)
}

func TestPanicRecovery(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/after-write" {
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, "partial")
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
		panic("boom in " + r.URL.Path)
	})
	for _, exec := range []time.Duration{20 * time.Second, 0} {
		t.Run("exec_timeout="+exec.String(), func(t *testing.T) {
			cfg := testConfig()
			cfg.ExecTimeout = exec
			if exec == 0 {
				cfg.WriteTimeout = 0
			}
			s := startServer(t, cfg, h)

			wantErrorBody(t, get(t, s.url+"/before-write"), http.StatusInternalServerError, "internal error", "")
			logs := s.logs.String()
			if !strings.Contains(logs, "boom in /before-write") || !strings.Contains(logs, "goroutine ") {
				t.Errorf("panic not logged with its stack:\n%s", logs)
			}
			// A panic after the response began must not pass for a whole answer.
			r := get(t, s.url+"/after-write")
			if r.Err == nil && r.StatusCode == http.StatusOK && r.Body == "partial" {
				t.Error("a panic after a partial write was delivered as a complete 200")
			}
			// The process survives.
			if r := get(t, s.url+faas.HealthPath); r.StatusCode != http.StatusOK {
				t.Fatalf("health after panics = %d", r.StatusCode)
			}
			waitForMetric(t, s, `faas_http_requests_total{code="500",function="test-fn",method="get",route="unmatched"} 1`)
			if !strings.Contains(s.logs.String(), `"msg":"request","function":"test-fn","method":"GET","path":"/after-write","route":"unmatched","status":500`) {
				t.Errorf("the aborted request is not logged as a 500:\n%s", s.logs.String())
			}
		})
	}
}

func TestClientThatLeftIsCountedAs499(t *testing.T) {
	for _, exec := range []time.Duration{20 * time.Second, 0} {
		t.Run("exec_timeout="+exec.String(), func(t *testing.T) {
			cfg := testConfig()
			cfg.ExecTimeout = exec
			if exec == 0 {
				cfg.WriteTimeout = 0
			}
			entered := make(chan struct{})
			mux := http.NewServeMux()
			mux.HandleFunc("GET /wait", func(_ http.ResponseWriter, r *http.Request) {
				close(entered)
				<-r.Context().Done() // gives up, answering nothing, once the client is gone
			})
			s := startServer(t, cfg, mux)

			ctx, cancel := context.WithCancel(context.Background())
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/wait", nil)
			if err != nil {
				t.Fatal(err)
			}
			left := make(chan response, 1)
			go func() { left <- do(req) }()
			<-entered
			cancel()
			if r := <-left; r.Err == nil {
				t.Fatalf("the cancelled request got an answer: %d", r.StatusCode)
			}
			waitForMetric(t, s, `faas_http_requests_total{code="499",function="test-fn",method="get",route="GET /wait"} 1`)
			if !strings.Contains(s.logs.String(), `"route":"GET /wait","status":499`) {
				t.Errorf("the request of a client that left is not logged as 499:\n%s", s.logs.String())
			}
		})
	}
}

func TestGracefulShutdownDrainsInflight(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.LockFile = filepath.Join(dir, ".lock")
	entered := make(chan struct{})
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	s := startServer(t, cfg, h)
	if _, err := os.Stat(cfg.LockFile); err != nil {
		t.Fatalf("lock file not written: %v", err)
	}

	inflight := make(chan response, 1)
	go func() { inflight <- get(t, s.url+"/work") }()
	<-entered
	s.cancel()

	// New connections are refused once the listener closes; the request in flight goes on.
	waitFor(t, "listener to close", func() bool {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.url, "http://"), time.Second)
		if err == nil {
			_ = c.Close() // a probe: only whether it connected matters
		}
		return err != nil
	})
	if _, err := os.Stat(cfg.LockFile); !os.IsNotExist(err) {
		t.Errorf("lock file still there during shutdown: %v", err)
	}
	select {
	case err := <-s.done:
		t.Fatalf("Serve returned (%v) with a request in flight", err)
	default:
	}
	close(release)
	if r := <-inflight; r.Err != nil || r.StatusCode != http.StatusOK || r.Body != "finished" {
		t.Fatalf("in-flight request = %+v", r)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("Serve = %v, want nil after a complete drain", err)
	}
}

func TestShutdownGivesUpAfterTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.ShutdownTimeout = 200 * time.Millisecond
	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(_ http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
	})
	s := startServer(t, cfg, h)
	go get(t, s.url+"/stuck")
	<-entered
	err := s.stop(t)
	if err == nil || !strings.Contains(err.Error(), "drain requests in flight within 200ms") {
		t.Fatalf("Serve = %v, want a drain timeout error", err)
	}
}

func TestHealthTurnsUnhealthyDuringShutdownDelay(t *testing.T) {
	cfg := testConfig()
	cfg.ShutdownDelay = 2 * time.Second
	s := startServer(t, cfg, http.NotFoundHandler())
	s.cancel()
	waitFor(t, "health 503", func() bool {
		r := get(t, s.url+faas.HealthPath)
		return r.Err == nil && r.StatusCode == http.StatusServiceUnavailable
	})
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
}

func TestServeRefusesBadConfigAndBusyPort(t *testing.T) {
	cfg := testConfig()
	cfg.ExecTimeout = cfg.WriteTimeout
	err := faas.Serve(context.Background(), cfg, "fn", http.NotFoundHandler(), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err == nil || !strings.Contains(err.Error(), "exec_timeout") {
		t.Fatalf("Serve with exec_timeout = write_timeout: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }() // Serve may have closed it already
	cfg = testConfig()
	cfg.Bind = "127.0.0.1"
	cfg.Port = ln.Addr().(*net.TCPAddr).Port
	err = faas.Serve(context.Background(), cfg, "fn", http.NotFoundHandler(), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err == nil || !strings.Contains(err.Error(), "listen on 127.0.0.1:") {
		t.Fatalf("Serve on a busy port: %v", err)
	}
}
