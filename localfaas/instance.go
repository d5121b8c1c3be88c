package localfaas

import (
	"context"
	"errors"
	"fmt"
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
	p    *Provider

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
// by a provider, so the logs of a function deleted and deployed again stay apart. The caller holds f.mu.
func (p *Provider) startInstance(f *function, s *spec) *instance {
	ctx, cancel := context.WithCancel(p.ctx)
	in := &instance{
		fn:     f,
		spec:   s,
		p:      p,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	p.mu.Lock()
	p.seq[f.name]++
	in.name = fmt.Sprintf("%s-%d", f.name, p.seq[f.name])
	stopped := p.stopped
	if !stopped {
		p.procs.Add(1) // under p.mu, so never after Shutdown has begun to wait
	}
	p.mu.Unlock()
	if stopped {
		close(in.done)
		return in
	}
	go func() {
		defer p.procs.Done()
		defer close(in.done)
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
	p := in.p
	b := &backoff.ExponentialBackOff{
		InitialInterval:     p.cfg.RestartInitial,
		RandomizationFactor: 0.2,
		Multiplier:          2,
		MaxInterval:         p.cfg.RestartMax,
	}
	b.Reset()
	for {
		started := time.Now()
		err := in.runOnce(ctx)
		if ctx.Err() != nil {
			in.record(fmt.Sprintf("localfaas: %s stopped", in.name))
			p.log.Debug("function instance stopped", "function", in.fn.name, "instance", in.name)
			return
		}
		uptime := time.Since(started)
		if uptime >= p.cfg.StableAfter {
			b.Reset()
		}
		delay := b.NextBackOff()
		p.metrics.restarts.WithLabelValues(in.fn.name).Inc()
		in.mu.Lock()
		tail := strings.Join(in.tail, " | ")
		in.mu.Unlock()
		in.record(fmt.Sprintf("localfaas: %s exited (%v) after %s; restarting in %s", in.name, err, uptime.Round(time.Millisecond), delay.Round(time.Millisecond)))
		p.log.Warn("function crashed", "function", in.fn.name, "instance", in.name, "status", err,
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
	p := in.p
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("find a free port: %w", err)
	}
	cmd := exec.CommandContext(ctx, in.spec.binary)
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
	cmd.WaitDelay = p.cfg.StopGrace
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
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, health.String(), nil)
		if res, err := healthClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				in.ready.Store(true)
				took := time.Since(started)
				in.p.metrics.coldStart.Observe(took.Seconds())
				in.p.log.Info("function ready", "function", in.fn.name, "instance", in.name, "url", in.urlString(), "after", took.Round(time.Millisecond))
				return
			}
		}
		if interval < 250*time.Millisecond {
			interval *= 2
		}
		if !warned && time.Since(started) > 30*time.Second {
			warned = true
			in.p.log.Warn("function not ready yet", "function", in.fn.name, "instance", in.name, "waited", time.Since(started).Round(time.Second), "probe", health.String())
		}
	}
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
	for k, v := range in.p.cfg.Env {
		env[k] = v
	}
	env["port"] = strconv.Itoa(port)
	env["bind"] = "127.0.0.1"
	env["secret_mount_path"] = in.p.secrets.dir
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
	in.p.logs.add(msg)
	if in.p.cfg.Echo != nil {
		in.p.cfg.Echo(msg)
	}
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
