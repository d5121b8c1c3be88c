// Package classic runs a command the way the OpenFaaS classic watchdog (github.com/openfaas/classic-watchdog,
// handler.go and readconfig.go) does: one fork of the function's fprocess per HTTP request, the request
// body on its stdin, its output as the answer, the request described in Http_* environment variables.
// localfaas uses it for functions deployed with an image it does not build and an envProcess that is an
// executable of this machine, so that a function written for the classic watchdog runs without its
// container. It keeps the watchdog's defaults, timeouts, statuses and log lines; it does not do the
// watchdog's marshal_request, debug_headers, jwt_auth or max_inflight.
package classic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HealthPath answers 200 "OK" to GET while the runner serves, as the watchdog's /_/health does.
const HealthPath = "/_/health"

// DefaultTimeout is the watchdog's read_timeout and write_timeout when its environment sets none.
const DefaultTimeout = 30 * time.Second

// Config is one function's runner.
type Config struct {
	// Process is the fprocess: a command and its arguments, split on single spaces as the watchdog does.
	Process string
	// Env is the whole environment of every fork (KEY=value); the Http_* variables are added to it.
	Env []string
	// Dir is the forks' working directory ("" for the caller's).
	Dir string
	// ExecTimeout kills a fork that runs longer (0: no limit, the watchdog's default); the caller then
	// gets 408 "Killed process.".
	ExecTimeout time.Duration
	// ReadTimeout and WriteTimeout are the HTTP server's (DefaultTimeout when 0); see Server.
	ReadTimeout, WriteTimeout time.Duration
	// CombineOutput answers with stdout and stderr together (the watchdog's default, combine_output);
	// false answers with stdout and logs stderr as "stderr: <text>".
	CombineOutput bool
	// ContentType, when set, is the answer's Content-Type (content_type); otherwise the request's is
	// echoed.
	ContentType string
	// Log receives the runner's log lines ("Forking fprocess.", "Wrote <n> Bytes - Duration: <s>s").
	Log func(line string)
	// Stop, when closed, kills the forks still running (the runner is going away: its function was
	// scaled down, updated or deleted, or localfaas is stopping); their callers get 503. A caller that
	// goes away does not kill its fork, as with the watchdog. nil: forks end only by themselves or by
	// ExecTimeout.
	Stop <-chan struct{}
}

// errStopped is why a fork was killed when Config.Stop was closed.
var errStopped = errors.New("runner stopping")

// FromEnv reads a function's watchdog settings from its deployed environment, with the watchdog's
// names and defaults: exec_timeout, read_timeout, write_timeout (whole seconds or a Go duration such as
// "5s"; the read and write ones 30 s when unset), combine_output (true unless "false"), content_type.
// Process, Env, Dir and Log are left to the caller.
func FromEnv(env map[string]string) Config {
	return Config{
		ExecTimeout:   duration(env["exec_timeout"], 0),
		ReadTimeout:   duration(env["read_timeout"], DefaultTimeout),
		WriteTimeout:  duration(env["write_timeout"], DefaultTimeout),
		CombineOutput: env["combine_output"] != "false",
		ContentType:   env["content_type"],
	}
}

// duration parses whole seconds or a Go duration, as the watchdog's parseIntOrDurationValue does.
func duration(v string, fallback time.Duration) time.Duration {
	if v == "" {
		return fallback
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if d, err := time.ParseDuration(v); err == nil {
		return d
	}
	return fallback
}

// Command returns the executable of an fprocess, its first word resolved on PATH (exec.LookPath) or an
// absolute path, or an error saying why it cannot be run. A relative path such as "./handler" is an
// error: in a container it names a file of the function's image, here it would name one of whatever
// folder localfaas was started from.
func Command(process string) (string, error) {
	parts := strings.Split(process, " ")
	if parts[0] == "" {
		return "", errors.New("envProcess (fprocess) is empty")
	}
	if strings.Contains(parts[0], "/") && !filepath.IsAbs(parts[0]) {
		return "", fmt.Errorf("envProcess %q: a relative path is not resolved (it would name a file of localfaas's working folder): use a command on PATH or an absolute path", process)
	}
	path, err := exec.LookPath(parts[0])
	if err != nil {
		return "", fmt.Errorf("envProcess %q: %w", process, err)
	}
	return path, nil
}

// Server returns an HTTP server of the runner with the configuration's read and write timeouts.
func Server(cfg Config) *http.Server {
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = DefaultTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultTimeout
	}
	return &http.Server{
		Handler:           Handler(cfg),
		ReadTimeout:       cfg.ReadTimeout,
		ReadHeaderTimeout: cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
	}
}

// Handler serves HealthPath and, on every other path, forks the fprocess for GET, POST, PUT, PATCH and
// DELETE (405 for other methods, as the watchdog): 200 with the output and X-Duration-Seconds; 500 with
// the exit error and the output when the process fails; 408 "Killed process." after ExecTimeout; 503
// when Stop killed it; 400 when the body cannot be read.
func Handler(cfg Config) http.Handler {
	if cfg.Log == nil {
		cfg.Log = func(string) {}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == HealthPath {
			if r.Method != http.MethodGet {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			_, _ = w.Write([]byte("OK"))
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			fork(cfg, w, r)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	})
}

// fork runs the fprocess once for the request.
func fork(cfg Config, w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	cfg.Log("Forking fprocess.")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx, stop := context.WithCancelCause(context.WithoutCancel(r.Context()))
	defer stop(nil)
	if cfg.Stop != nil {
		go func() {
			select {
			case <-cfg.Stop:
				stop(errStopped)
			case <-ctx.Done():
			}
		}()
	}
	var cancel context.CancelFunc = func() {}
	if cfg.ExecTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, cfg.ExecTimeout)
	}
	defer cancel()
	parts := strings.Split(cfg.Process, " ")
	cmd := exec.CommandContext(ctx, parts[0], parts[1:]...) //nolint:gosec // the operator's deployed fprocess, behind the provider's basic auth
	cmd.Dir = cfg.Dir
	cmd.Env = append(append([]string(nil), cfg.Env...), httpEnv(r)...)
	cmd.Stdin = bytes.NewReader(body)
	cmd.WaitDelay = time.Second // a grandchild holding stdout does not hold the answer past a kill
	var out, stderr lockedBuffer
	cmd.Stdout = &out
	cmd.Stderr = &stderr
	if cfg.CombineOutput {
		cmd.Stderr = &out
	}
	err = cmd.Run()
	if !cfg.CombineOutput && stderr.Len() > 0 {
		cfg.Log("stderr: " + stderr.String())
	}
	if errors.Is(context.Cause(ctx), errStopped) {
		cfg.Log("Killing process (runner stopping): " + cfg.Process)
		http.Error(w, "Killed process: the function's runner is stopping.", http.StatusServiceUnavailable)
		return
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && cfg.ExecTimeout > 0 {
		cfg.Log("Killing process: " + cfg.Process)
		w.WriteHeader(http.StatusRequestTimeout)
		_, _ = w.Write([]byte("Killed process.\n"))
		return
	}
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(err.Error() + "\n"))
		_, _ = w.Write(out.Bytes())
		return
	}
	if cfg.ContentType != "" {
		w.Header().Set("Content-Type", cfg.ContentType)
	} else if ct := r.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	took := time.Since(started).Seconds()
	w.Header().Set("X-Duration-Seconds", fmt.Sprintf("%f", took))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.Bytes())
	cfg.Log(fmt.Sprintf("Wrote %d Bytes - Duration: %fs", out.Len(), took))
}

// httpEnv describes the request as the watchdog's cgi_headers do: Http_<Header> (dashes as
// underscores, the first value) for every header, Http_Method, Http_ContentLength and
// Http_Content_Length, and Http_Transfer_Encoding, Http_Query, Http_Path and Http_Host when not empty.
func httpEnv(r *http.Request) []string {
	env := make([]string, 0, len(r.Header)+7)
	for k, v := range r.Header {
		env = append(env, "Http_"+strings.ReplaceAll(k, "-", "_")+"="+v[0])
	}
	n := strconv.FormatInt(r.ContentLength, 10)
	env = append(env, "Http_Method="+r.Method, "Http_ContentLength="+n, "Http_Content_Length="+n)
	if len(r.TransferEncoding) > 0 {
		env = append(env, "Http_Transfer_Encoding="+r.TransferEncoding[0])
	}
	if r.URL.RawQuery != "" {
		env = append(env, "Http_Query="+r.URL.RawQuery)
	}
	if r.URL.Path != "" {
		env = append(env, "Http_Path="+r.URL.Path)
	}
	if r.Host != "" {
		env = append(env, "Http_Host="+r.Host)
	}
	return env
}

// lockedBuffer is a bytes.Buffer that stdout and stderr may share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p) //nolint:wrapcheck // bytes.Buffer's own error
}

func (b *lockedBuffer) Len() int       { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.Len() }
func (b *lockedBuffer) Bytes() []byte  { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.Bytes() }
func (b *lockedBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }
