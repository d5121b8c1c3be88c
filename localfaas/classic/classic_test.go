package classic_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stockalert/stockalert/localfaas/classic"
	"github.com/stockalert/stockalert/localfaas/internal/lftest"
)

// runner serves a classic runner of process with env, and collects its log lines.
func runner(t *testing.T, cfg classic.Config) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var lines []string
	cfg.Log = func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() }
	srv := httptest.NewServer(classic.Handler(cfg))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(lines) }
}

// answer is a response read whole.
type answer struct {
	StatusCode int
	Header     http.Header
}

func call(t *testing.T, method, url, body string, header http.Header) (answer, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{res.StatusCode, res.Header}, string(b)
}

func TestForkPerRequestWithBodyOnStdinAndTheWatchdogLogLines(t *testing.T) {
	t.Parallel()
	srv, logs := runner(t, classic.Config{Process: "cat", Env: []string{"PATH=/usr/bin:/bin"}, CombineOutput: true})
	res, body := call(t, http.MethodPost, srv.URL+"/", "openfaas-fn", http.Header{"Content-Type": {"text/plain"}})
	if res.StatusCode != http.StatusOK || body != "openfaas-fn" {
		t.Fatalf("cat answered %d %q", res.StatusCode, body)
	}
	if res.Header.Get("Content-Type") != "text/plain" || res.Header.Get("X-Duration-Seconds") == "" {
		t.Errorf("headers %v", res.Header)
	}
	got := logs()
	if len(got) != 2 || got[0] != "Forking fprocess." || !strings.HasPrefix(got[1], "Wrote 11 Bytes - Duration: ") || !strings.HasSuffix(got[1], "s") {
		t.Errorf("log lines %q", got)
	}
}

func TestEnvironmentIsOnlyTheGivenOneAndTheHTTPVariables(t *testing.T) {
	t.Setenv("LOCALFAAS_SECRET_FOR_TEST", "leak")
	srv, _ := runner(t, classic.Config{Process: "env", Env: []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "greeting=hi"}, CombineOutput: true})
	res, body := call(t, http.MethodPut, srv.URL+"/some/path?a=1&b=2", "12345", http.Header{"X-Custom-Header": {"v1"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("env answered %d %q", res.StatusCode, body)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vars[k] = v
	}
	want := map[string]string{
		"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "greeting": "hi",
		"Http_Method": "PUT", "Http_Path": "/some/path", "Http_Query": "a=1&b=2",
		"Http_ContentLength": "5", "Http_Content_Length": "5", "Http_X_Custom_Header": "v1",
		"Http_User_Agent": "Go-http-client/1.1", "Http_Accept_Encoding": "gzip",
		"Http_Host": strings.TrimPrefix(srv.URL, "http://"),
	}
	for k, v := range want {
		if vars[k] != v {
			t.Errorf("%s = %q, want %q", k, vars[k], v)
		}
	}
	for k := range vars {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected variable %s=%s", k, vars[k])
		}
	}
}

func TestFailureTimeoutAndMethods(t *testing.T) {
	t.Parallel()
	srv, _ := runner(t, classic.Config{Process: "false", Env: []string{"PATH=/usr/bin:/bin"}})
	if res, body := call(t, http.MethodGet, srv.URL, "", nil); res.StatusCode != http.StatusInternalServerError || !strings.HasPrefix(body, "exit status") {
		t.Errorf("failing process: %d %q", res.StatusCode, body)
	}
	for _, m := range []string{http.MethodHead, http.MethodOptions} {
		if res, _ := call(t, m, srv.URL, "", nil); res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d, want 405", m, res.StatusCode)
		}
	}
	if res, body := call(t, http.MethodGet, srv.URL+classic.HealthPath, "", nil); res.StatusCode != http.StatusOK || body != "OK" {
		t.Errorf("health: %d %q", res.StatusCode, body)
	}

	// A process that never ends on its own (cat on a stdin kept open is not possible here: sleep).
	slow, logs := runner(t, classic.Config{Process: "sleep 600", Env: []string{"PATH=/usr/bin:/bin"}, ExecTimeout: 50 * time.Millisecond})
	if res, body := call(t, http.MethodPost, slow.URL, "", nil); res.StatusCode != http.StatusRequestTimeout || body != "Killed process.\n" {
		t.Errorf("exec_timeout: %d %q", res.StatusCode, body)
	}
	if got := logs(); !slices.Contains(got, "Killing process: sleep 600") {
		t.Errorf("log lines %q", got)
	}
}

func TestFromEnvAndCommand(t *testing.T) {
	t.Parallel()
	cfg := classic.FromEnv(map[string]string{"exec_timeout": "2", "read_timeout": "1m", "combine_output": "false", "content_type": "text/csv"})
	if cfg.ExecTimeout != 2*time.Second || cfg.ReadTimeout != time.Minute || cfg.WriteTimeout != classic.DefaultTimeout || cfg.CombineOutput || cfg.ContentType != "text/csv" {
		t.Errorf("FromEnv: %+v", cfg)
	}
	if d := classic.FromEnv(nil); d.ExecTimeout != 0 || !d.CombineOutput {
		t.Errorf("defaults: %+v", d)
	}
	if _, err := classic.Command("env"); err != nil {
		t.Errorf("env: %v", err)
	}
	for _, p := range []string{"", "./handler", "no-such-command-here"} {
		if _, err := classic.Command(p); err == nil {
			t.Errorf("Command(%q) resolved", p)
		}
	}
	// An executable that exists, named by its absolute path (resolved) and by a path relative to the
	// working folder (refused: it would depend on where localfaas was started).
	abs, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := classic.Command(abs + " -c true"); err != nil || got != abs {
		t.Errorf("Command(%q) = %q, %v", abs, got, err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, abs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(rel); err != nil {
		t.Fatalf("the relative path %s does not name sh: %v", rel, err)
	}
	if _, err := classic.Command(rel); err == nil || !strings.Contains(err.Error(), "relative path") {
		t.Errorf("Command(%q): %v, want a relative path refused", rel, err)
	}
}

func TestStopKillsRunningForks(t *testing.T) {
	t.Parallel()
	// A fprocess that says it started (its pid in a file) and then never ends on its own.
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := filepath.Join(dir, "forever")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho $$ > "+pidFile+"\nexec sleep 600\n"), 0o700); err != nil { //nolint:gosec // G306: an executable
		t.Fatal(err)
	}
	stop := make(chan struct{})
	srv, logs := runner(t, classic.Config{Process: script, Env: []string{"PATH=/usr/bin:/bin"}, Stop: stop})
	type result struct {
		status int
		body   string
	}
	done := make(chan result, 1)
	go func() {
		res, err := http.Post(srv.URL, "text/plain", nil) //nolint:noctx // a test call
		if err != nil {
			done <- result{0, err.Error()}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		done <- result{res.StatusCode, string(b)}
	}()
	var pid int
	lftest.Eventually(t, 30*time.Second, "the fork to start", func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	close(stop)
	select {
	case r := <-done:
		if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "runner is stopping") {
			t.Errorf("the killed fork's caller got %d %q, want 503", r.status, r.body)
		}
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(pid, syscall.SIGKILL) // so that the server can close
		t.Fatal("the fork was not killed when Stop was closed")
	}
	// The fork was killed and reaped: its pid is gone.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("fork %d after Stop: kill 0 says %v, want ESRCH", pid, err)
	}
	if got := logs(); !slices.Contains(got, "Killing process (runner stopping): "+script) {
		t.Errorf("log lines %q", got)
	}
}
