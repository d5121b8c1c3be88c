// Package lftest holds the test helpers shared by localfaas's packages: a gateway over a real
// supervisor on the test stack (testdata/fn), a builder that compiles each test function once per test
// binary, HTTP calls, a polling wait, a goroutine-safe buffer and metric reads. Only tests import it.
package lftest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/auth"
	"github.com/openfaas/faas-provider/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/localfaas/provider"
	"github.com/stockalert/stockalert/localfaas/secret"
	"github.com/stockalert/stockalert/localfaas/stack"
	"github.com/stockalert/stockalert/localfaas/supervisor"
)

// Stack has two functions built from testdata/fn: echo (HTTP) and ticker (cron).
const Stack = `
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

// Creds are the test gateway's admin credentials.
var Creds = &auth.BasicAuthCredentials{User: provider.AdminUser, Password: "s3cret"}

// Testdata is the absolute path of localfaas/testdata.
func Testdata() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}

// Main runs a package's tests and then removes the functions built for them.
func Main(m *testing.M) int {
	code := m.Run()
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		if err := os.RemoveAll(builds.dir); err != nil {
			fmt.Fprintln(os.Stderr, "lftest: remove builds:", err)
		}
	}
	return code
}

// builds caches the functions built by Builder: one go build per handler folder per test binary.
var builds struct {
	mu   sync.Mutex
	dir  string
	once map[string]*built
}

type built struct {
	once sync.Once
	bin  string
	err  error
}

// Builder is a supervisor.Builder that runs go build once per handler folder for the whole test binary
// and copies the result for every deploy; a failed build fails every time with the compiler's output.
type Builder struct{}

// Build implements supervisor.Builder.
func (Builder) Build(ctx context.Context, handlerDir, out string) error {
	builds.mu.Lock()
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "lftest-builds-")
		if err != nil {
			builds.mu.Unlock()
			return fmt.Errorf("build cache: %w", err)
		}
		builds.dir, builds.once = dir, map[string]*built{}
	}
	b := builds.once[handlerDir]
	if b == nil {
		b = &built{bin: filepath.Join(builds.dir, fmt.Sprintf("fn-%d", len(builds.once)))}
		builds.once[handlerDir] = b
	}
	builds.mu.Unlock()
	b.once.Do(func() {
		b.err = supervisor.GoBuilder{}.Build(context.WithoutCancel(ctx), handlerDir, b.bin)
	})
	if b.err != nil {
		return b.err
	}
	return linkBuild(b.bin, out)
}

// linkBuild puts the built binary at to as a hard link. A copy would hold a writable descriptor of the
// executable in this process, which a parallel test's fork can inherit until its exec: exec'ing the
// copy then fails with "text file busy" (ETXTBSY, golang/go#22315). A link opens nothing.
func linkBuild(from, to string) error {
	if err := os.Remove(to); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("replace build %s: %w", to, err)
	}
	if err := os.Link(from, to); err != nil {
		return fmt.Errorf("link build %s: %w", to, err)
	}
	return nil
}

// Gateway is a supervisor behind the gateway's router (provider.NewRouter, the routes of
// bootstrap.Serve), on a test server.
type Gateway struct {
	*supervisor.Supervisor
	URL        string
	Stack      *stack.Stack
	SecretsDir string
	// Registry holds the supervisor's and the gateway's metrics.
	Registry *prometheus.Registry
}

// NewGateway starts a supervisor of stackYAML (substituted from env, relative to testdata) and a
// gateway in front of it; tweak may change the supervisor's configuration. Both stop when the test
// ends.
func NewGateway(t testing.TB, stackYAML string, env map[string]string, tweak func(*supervisor.Config)) *Gateway {
	t.Helper()
	return NewGatewayWith(t, stackYAML, env, tweak, provider.Options{Creds: Creds})
}

// NewGatewayWith is NewGateway with the gateway's options (NewGateway's are Creds only).
func NewGatewayWith(t testing.TB, stackYAML string, env map[string]string, tweak func(*supervisor.Config), opts provider.Options) *Gateway {
	t.Helper()
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	st, err := stack.Parse([]byte(stackYAML), Testdata(), lookup)
	if err != nil {
		t.Fatalf("parse test stack: %v", err)
	}
	data := t.TempDir()
	reg := prometheus.NewRegistry()
	cfg := supervisor.Config{
		Stack:          st,
		BinDir:         filepath.Join(data, "bin"),
		SecretsDir:     filepath.Join(data, "secrets"),
		Env:            map[string]string{"INFRA": "infra-value", "SHARED": "from-localfaas"},
		Builder:        Builder{},
		StopGrace:      3 * time.Second,
		RestartInitial: 20 * time.Millisecond,
		RestartMax:     200 * time.Millisecond,
		Logger:         Logger(t),
		Registerer:     reg,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	secrets, err := secret.New(cfg.SecretsDir)
	if err != nil {
		t.Fatal(err)
	}
	sup, err := supervisor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := sup.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	m, err := provider.NewMetrics(reg, sup)
	if err != nil {
		t.Fatal(err)
	}
	h := provider.Handlers(sup, secrets, m, opts, types.FaaSConfig{ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second})
	srv := httptest.NewServer(provider.NewRouter(h, m, nil))
	t.Cleanup(func() {
		sup.CloseLogStreams()
		srv.Close()
	})
	return &Gateway{Supervisor: sup, URL: srv.URL, Stack: st, SecretsDir: cfg.SecretsDir, Registry: reg}
}

// DeployAndWait deploys a stack function and waits until its replicas are ready.
func (g *Gateway) DeployAndWait(t testing.TB, name string) {
	t.Helper()
	if err := g.Deploy(context.Background(), g.Stack.Functions[name].Deployment()); err != nil {
		t.Fatalf("deploy %s: %v", name, err)
	}
	g.WaitReady(t)
}

// WaitReady waits until every deployed function is ready.
func (g *Gateway) WaitReady(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := g.Supervisor.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

// Response is an HTTP answer read in full.
type Response struct {
	Status int
	Body   string
	Header http.Header
}

// Call makes a request; creds nil sends none. body may be a string or a value to encode as JSON.
func Call(t testing.TB, method, url string, creds *auth.BasicAuthCredentials, body any) Response {
	t.Helper()
	rd := io.Reader(http.NoBody)
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
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
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
	out, err := io.ReadAll(res.Body)
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: res.StatusCode, Body: string(out), Header: res.Header}
}

// ExpectStatus fails the test unless r has the status want.
func ExpectStatus(t testing.TB, r Response, want int, what string) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d; body: %s", what, r.Status, want, r.Body)
	}
}

// Decode decodes a JSON body.
func Decode[T any](t testing.TB, r Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	return v
}

// Eventually polls cond every 20ms until it holds, failing the test when within passes first.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, within, 20*time.Millisecond, "gave up after %s waiting for %s", within, what)
}

// Logger logs to the test's log at debug level, and to also (if not nil) as well.
func Logger(t testing.TB, also ...io.Writer) *slog.Logger {
	w := io.MultiWriter(append([]io.Writer{testWriter{t}}, also...)...)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Counter returns the value of the counter name with the labels (name, value pairs) in g, 0 when it
// has not been counted yet.
func Counter(t testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
