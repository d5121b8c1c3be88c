package localfaas

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/openfaas/faas-provider/auth"
	"github.com/openfaas/faas-provider/types"
	"github.com/prometheus/client_golang/prometheus"
)

// testStack has two functions built from testdata/fn: echo (HTTP) and ticker (cron).
const testStack = `
version: 1.0
provider:
  name: openfaas
  gateway: http://127.0.0.1:8080
functions:
  echo:
    lang: go
    handler: ./fn
    image: ${REGISTRY:-localhost}/echo:latest
    environment:
      GREETING: ${GREETING:-hello}
      SHARED: from-stack
    secrets:
      - api-key
  ticker:
    lang: go
    handler: ./fn
    image: localhost/ticker:latest
    annotations:
      topic: cron-function
      schedule: "${TICK_SCHEDULE:-@every 1s}"
    environment:
      CRON_SLEEP: ${CRON_SLEEP:-0s}
`

var testCreds = &auth.BasicAuthCredentials{User: AdminUser, Password: "s3cret"}

// testGateway is a provider behind the routes bootstrap.Serve registers (bootstrap.Serve itself can run
// only once per process: it uses a global router and the default Prometheus registry; the program test
// in cmd/localfaas covers it).
type testGateway struct {
	*Provider
	URL string
}

func newTestProvider(t testing.TB, stackYAML string, env map[string]string, tweak func(*Config)) *Provider {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	stack, err := ParseStack([]byte(stackYAML), dir, lookup)
	if err != nil {
		t.Fatalf("parse test stack: %v", err)
	}
	cfg := Config{
		Stack:          stack,
		DataDir:        t.TempDir(),
		Env:            map[string]string{"INFRA": "infra-value", "SHARED": "from-localfaas"},
		StopGrace:      3 * time.Second,
		RestartInitial: 100 * time.Millisecond,
		RestartMax:     time.Second,
		Logger:         slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer:     prometheus.NewRegistry(),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return p
}

func newTestGateway(t testing.TB, p *Provider) *testGateway {
	t.Helper()
	h := p.Handlers(testCreds, types.FaaSConfig{ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second})
	srv := httptest.NewServer(router(h))
	t.Cleanup(func() {
		p.CloseLogStreams()
		srv.Close()
	})
	return &testGateway{Provider: p, URL: srv.URL}
}

// router registers the handlers on the routes of faas-provider v0.25.8's bootstrap.Serve.
func router(h *types.FaaSHandlers) *mux.Router {
	const name = "{name:[-a-zA-Z_0-9.]+}"
	r := mux.NewRouter()
	r.HandleFunc("/system/functions", h.FunctionLister).Methods(http.MethodGet)
	r.HandleFunc("/system/functions", h.DeployFunction).Methods(http.MethodPost)
	r.HandleFunc("/system/functions", h.DeleteFunction).Methods(http.MethodDelete)
	r.HandleFunc("/system/functions", h.UpdateFunction).Methods(http.MethodPut)
	r.HandleFunc("/system/function/"+name, h.FunctionStatus).Methods(http.MethodGet)
	r.HandleFunc("/system/scale-function/"+name, h.ScaleFunction).Methods(http.MethodPost)
	r.HandleFunc("/system/info", h.Info).Methods(http.MethodGet)
	r.HandleFunc("/system/secrets", h.Secrets).Methods(http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete)
	r.HandleFunc("/system/logs", h.Logs).Methods(http.MethodGet)
	r.HandleFunc("/system/namespaces", h.ListNamespaces).Methods(http.MethodGet)
	r.HandleFunc("/function/"+name, h.FunctionProxy)
	r.HandleFunc("/function/"+name+"/", h.FunctionProxy)
	r.HandleFunc("/function/"+name+"/{params:.*}", h.FunctionProxy)
	r.HandleFunc("/healthz", h.Health).Methods(http.MethodGet)
	return r
}

// deployAndWait deploys a stack function and waits until its replicas are ready.
func deployAndWait(t testing.TB, p *Provider, name string) {
	t.Helper()
	if err := p.Deploy(context.Background(), StackDeployment(p.cfg.Stack.Functions[name])); err != nil {
		t.Fatalf("deploy %s: %v", name, err)
	}
	waitReady(t, p)
}

func waitReady(t testing.TB, p *Provider) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := p.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

type response struct {
	Status int
	Body   string
	Header http.Header
}

// call makes a request; creds nil sends none. body may be a string or a value to encode as JSON.
func call(t testing.TB, method, url string, creds *auth.BasicAuthCredentials, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if creds != nil {
		req.SetBasicAuth(creds.User, creds.Password)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: res.StatusCode, Body: string(out), Header: res.Header}
}

func expectStatus(t testing.TB, r response, want int, what string) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d; body: %s", what, r.Status, want, r.Body)
	}
}

func decode[T any](t testing.TB, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	return v
}

// eventually polls cond every 50ms until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
