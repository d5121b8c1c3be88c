package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// stderrTail is how many of a process's last stderr lines a crash report quotes.
const stderrTail = 8

// inheritedEnv are the variables of localfaas's own environment that a function process gets; the rest
// of its environment is its stack.yml environment and what localfaas sets.
var inheritedEnv = []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL", "USER", "GOCOVERDIR"}

// instance is one replica of a function: a process that is restarted with backoff whenever it exits,
// until it is stopped.
type instance struct {
	name string
	fn   *function
	spec *spec
	s    *Supervisor

	cancel context.CancelFunc
	done   chan struct{}

	ready atomic.Bool
	mu    sync.Mutex
	url   url.URL
	pid   int
	tail  []string
}

var healthClient = &http.Client{Timeout: 2 * time.Second}

// startInstance starts a new replica of f running s. Instance names (<function>-<n>) are never reused
// by a supervisor, so the logs of a function deleted and deployed again stay apart. The caller holds
// f.mu. The instance ends when it is stopped or the supervisor shuts down.
func (s *Supervisor) startInstance(f *function, sp *spec) *instance {
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{
		fn:     f,
		spec:   sp,
		s:      s,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	s.mu.Lock()
	s.seq[f.name]++
	in.name = fmt.Sprintf("%s-%d", f.name, s.seq[f.name])
	stopped := s.stopped
	if !stopped {
		s.procs.Add(1) // under s.mu, so never after Shutdown has begun to wait
	}
	s.mu.Unlock()
	if stopped {
		cancel()
		close(in.done)
		return in
	}
	go func() {
		select {
		case <-s.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	go func() {
		defer s.procs.Done()
		defer close(in.done)
		defer cancel()
		in.supervise(ctx)
	}()
	return in
}

func (in *instance) isReady() bool { return in.ready.Load() }

// stop asks the instance to end: its process gets SIGTERM and, after the grace period, SIGKILL.
func (in *instance) stop() { in.cancel() }

// address returns the instance's base URL.
func (in *instance) address() url.URL {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.url
}

func (in *instance) urlString() string {
	u := in.address()
	return u.String()
}

// supervise runs the process until ctx ends, restarting it with exponential backoff when it exits.
func (in *instance) supervise(ctx context.Context) {
	s := in.s
	b := &backoff.ExponentialBackOff{
		InitialInterval:     s.cfg.RestartInitial,
		RandomizationFactor: 0.2,
		Multiplier:          2,
		MaxInterval:         s.cfg.RestartMax,
	}
	b.Reset()
	for {
		started := time.Now()
		err := in.runOnce(ctx)
		if ctx.Err() != nil {
			in.record(fmt.Sprintf("localfaas: %s stopped", in.name))
			s.log.Debug("function instance stopped", "function", in.fn.name, "instance", in.name)
			return
		}
		uptime := time.Since(started)
		if uptime >= s.cfg.StableAfter {
			b.Reset()
		}
		delay := b.NextBackOff()
		s.metrics.restarts.WithLabelValues(in.fn.name).Inc()
		in.mu.Lock()
		tail := strings.Join(in.tail, " | ")
		in.mu.Unlock()
		in.record(fmt.Sprintf("localfaas: %s exited (%v) after %s; restarting in %s", in.name, err, uptime.Round(time.Millisecond), delay.Round(time.Millisecond)))
		s.log.Warn("function crashed", "function", in.fn.name, "instance", in.name, "status", err,
			"uptime", uptime.Round(time.Millisecond), "restart_in", delay.Round(time.Millisecond), "stderr", tail)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			in.record(fmt.Sprintf("localfaas: %s stopped", in.name))
			return
		case <-t.C:
		}
	}
}

// runOnce starts the process on a free port, marks the instance ready once /_/health answers 200 and
// returns how the process ended.
func (in *instance) runOnce(ctx context.Context) error {
	if in.spec.process != "" {
		return in.runClassic(ctx)
	}
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("find a free port: %w", err)
	}
	cmd := exec.CommandContext(ctx, in.spec.binary) //nolint:gosec // the binary the supervisor built
	cmd.Dir = in.spec.dir
	cmd.Env = in.environ(port)
	stdout := &lineWriter{emit: func(text string) { in.record(text) }}
	stderr := &lineWriter{emit: func(text string) {
		in.record(text)
		in.mu.Lock()
		in.tail = append(in.tail, text)
		if len(in.tail) > stderrTail {
			in.tail = in.tail[len(in.tail)-stderrTail:]
		}
		in.mu.Unlock()
	}}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Cancel = func() error { return terminate(cmd.Process) }
	cmd.WaitDelay = in.s.cfg.StopGrace
	configureProcess(cmd)

	in.mu.Lock()
	in.tail = nil
	in.url = url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	in.mu.Unlock()

	started := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", in.spec.binary, err)
	}
	in.mu.Lock()
	in.pid = cmd.Process.Pid
	in.mu.Unlock()
	in.record(fmt.Sprintf("localfaas: %s started (pid %d, port %d)", in.name, cmd.Process.Pid, port))

	exited := make(chan struct{})
	go in.awaitHealth(ctx, exited, started)
	err = cmd.Wait()
	close(exited)
	in.ready.Store(false)
	stdout.flush()
	stderr.flush()
	if err == nil {
		return errors.New("exit status 0")
	}
	return err
}

// awaitHealth polls /_/health until it answers 200, the process exits or ctx ends.
func (in *instance) awaitHealth(ctx context.Context, exited <-chan struct{}, started time.Time) {
	health := in.address()
	health.Path = "/_/health"
	interval := 5 * time.Millisecond
	warned := false
	for {
		select {
		case <-exited:
			return
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		if in.healthy(ctx, health.String()) {
			in.ready.Store(true)
			took := time.Since(started)
			in.s.metrics.coldStart.Observe(took.Seconds())
			in.s.log.Info("function ready", "function", in.fn.name, "instance", in.name, "url", in.urlString(), "after", took.Round(time.Millisecond))
			return
		}
		// Every 5 ms for the first second (a function is typically ready in 15–40 ms, and doubling from
		// 5 ms reported one ready at 16 ms only at 35 ms, one at 36 ms at 75 ms), then backing off to 250 ms.
		if interval < 250*time.Millisecond && time.Since(started) > time.Second {
			interval *= 2
		}
		if !warned && time.Since(started) > 30*time.Second {
			warned = true
			in.s.log.Warn("function not ready yet", "function", in.fn.name, "instance", in.name, "waited", time.Since(started).Round(time.Second), "probe", health.String())
		}
	}
}

// healthy probes the process's health URL once: true when it answers 200.
func (in *instance) healthy(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return false
	}
	res, err := healthClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, res.Body)
	if err := res.Body.Close(); err != nil {
		return false
	}
	return res.StatusCode == http.StatusOK
}

// environ is the process environment: a few variables of localfaas's own, the function's environment,
// the infrastructure addresses, then port, bind (loopback: only the gateway talks to a process) and
// secret_mount_path.
func (in *instance) environ(port int) []string {
	env := map[string]string{}
	for _, k := range inheritedEnv {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	for k, v := range in.spec.env {
		env[k] = v
	}
	for k, v := range in.s.cfg.Env {
		env[k] = v
	}
	env["port"] = strconv.Itoa(port)
	env["bind"] = "127.0.0.1"
	env["secret_mount_path"] = in.s.cfg.SecretsDir
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// record stores a line of the instance's output (or a line about it) in the function's log.
func (in *instance) record(text string) {
	msg := logMessage(in.fn.name, in.name, text)
	in.s.logs.add(msg)
	if in.s.cfg.Echo != nil {
		in.s.cfg.Echo(msg)
	}
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (port int, err error) {
	l, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listen on a free port: %w", err)
	}
	defer func() {
		if cerr := l.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("release the free port: %w", cerr)
		}
	}()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("free port: unexpected address %v", l.Addr())
	}
	return addr.Port, nil
}
