// Package supervisor runs the functions of a stack as local processes: it builds each function from
// its handler folder, starts its replicas on free loopback ports, marks them ready when /_/health
// answers, restarts the ones that exit with exponential backoff, and keeps their output for the logs
// endpoint. A Supervisor is what the provider package's endpoints act on; it knows nothing of HTTP
// beyond the health probe, and nothing of the application whose functions it runs.
package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openfaas/faas-provider/logs"
	"github.com/openfaas/faas-provider/types"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/stockalert/stockalert/localfaas/provider"
	"github.com/stockalert/stockalert/localfaas/stack"
)

// Config configures a Supervisor. Zero durations and counts take the defaults shown.
type Config struct {
	// Stack lists the functions built from source; a deploy names one of them with its image, or is a
	// process function (an envProcess on PATH, run by the classic runner).
	Stack *stack.Stack
	// BinDir receives the built functions. It is created if missing.
	BinDir string
	// SecretsDir is the folder of function secrets, the processes' secret_mount_path.
	SecretsDir string
	// Env is set in every function process over its stack.yml environment (e.g. the infrastructure
	// addresses). The supervisor adds port, bind and secret_mount_path itself.
	Env map[string]string
	// Builder builds the functions (GoBuilder{Command: "go"}).
	Builder Builder
	// MaxReplicas bounds a function's replicas (10 when below 1).
	MaxReplicas int
	// ReadyTimeout is how long an update keeps the old processes serving while the new ones get ready
	// (60s).
	ReadyTimeout time.Duration
	// StopGrace is how long a process has to exit after SIGTERM before it is killed (10s).
	StopGrace time.Duration
	// RestartInitial and RestartMax bound the exponential backoff between restarts of a crashed
	// process (500ms, 30s). The backoff starts over once a process has stayed up for StableAfter (30s).
	RestartInitial, RestartMax, StableAfter time.Duration
	// LogLines is how many lines of output are kept per function for the logs (2000).
	LogLines int
	// Echo, when set, is called with every line a function writes (the program prints some of them).
	Echo func(logs.Message)
	// Logger receives the supervisor's own events (builds, starts, crashes). Default: slog.Default().
	Logger *slog.Logger
	// Registerer receives the restart and cold-start metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Supervisor runs the functions of a stack as local processes. Its methods are safe for concurrent
// use. Errors of its methods wrap provider.ErrNotFound, ErrExists, ErrInvalid or ErrStopped where one
// applies, so the provider's endpoints can answer with the right status.
type Supervisor struct {
	cfg     Config
	log     *slog.Logger
	logs    *logStore
	metrics *metrics

	// stopping is closed by Shutdown; every process watches it.
	stopping chan struct{}
	procs    sync.WaitGroup

	mu        sync.Mutex
	functions map[string]*function
	locks     map[string]*sync.Mutex
	seq       map[string]int // last instance number per function
	stopped   bool
}

// New prepares the bin folder and returns a supervisor with no function deployed. It fails when a
// required setting is missing, the folder cannot be created or the metrics cannot be registered.
func New(cfg Config) (*Supervisor, error) {
	if cfg.Stack == nil {
		return nil, errors.New("supervisor: Config.Stack is required")
	}
	if cfg.BinDir == "" || cfg.SecretsDir == "" {
		return nil, errors.New("supervisor: Config.BinDir and SecretsDir are required")
	}
	binDir, err := filepath.Abs(cfg.BinDir)
	if err != nil {
		return nil, fmt.Errorf("supervisor: bin folder: %w", err)
	}
	cfg.BinDir = binDir
	if cfg.Builder == nil {
		cfg.Builder = GoBuilder{Command: "go"}
	}
	if cfg.MaxReplicas < 1 {
		cfg.MaxReplicas = 10
	}
	setDefault(&cfg.ReadyTimeout, 60*time.Second)
	setDefault(&cfg.StopGrace, 10*time.Second)
	setDefault(&cfg.RestartInitial, 500*time.Millisecond)
	setDefault(&cfg.RestartMax, 30*time.Second)
	setDefault(&cfg.StableAfter, 30*time.Second)
	setDefault(&cfg.LogLines, 2000)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(binDir, 0o750); err != nil {
		return nil, fmt.Errorf("supervisor: create %s: %w", binDir, err)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Supervisor{
		cfg:       cfg,
		log:       cfg.Logger,
		logs:      newLogStore(cfg.LogLines),
		metrics:   m,
		stopping:  make(chan struct{}),
		functions: map[string]*function{},
		locks:     map[string]*sync.Mutex{},
		seq:       map[string]int{},
	}, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// isStopping reports whether Shutdown has begun.
func (s *Supervisor) isStopping() bool {
	select {
	case <-s.stopping:
		return true
	default:
		return false
	}
}

// DeployStack deploys every function of the stack with its stack.yml settings, building two at a
// time. It returns the errors of all that failed, joined.
func (s *Supervisor) DeployStack(ctx context.Context) error {
	var g errgroup.Group
	g.SetLimit(2)
	names := s.cfg.Stack.FunctionNames()
	errs := make([]error, len(names))
	for i, name := range names {
		fn := s.cfg.Stack.Functions[name]
		g.Go(func() error {
			errs[i] = s.Deploy(ctx, fn.Deployment())
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("deploy stack: %w", err)
	}
	return errors.Join(errs...)
}

// WaitReady waits until every deployed function has all its replicas ready. When ctx ends first it
// returns an error naming the functions that are not, wrapping ctx's error.
func (s *Supervisor) WaitReady(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var waiting []string
		for _, st := range s.Functions() {
			if st.AvailableReplicas < st.Replicas {
				waiting = append(waiting, fmt.Sprintf("%s (%d/%d ready)", st.Name, st.AvailableReplicas, st.Replicas))
			}
		}
		if len(waiting) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("functions not ready: %s: %w", strings.Join(waiting, ", "), ctx.Err())
		case <-tick.C:
		}
	}
}

// Functions returns the status of every deployed function, sorted by name.
func (s *Supervisor) Functions() []types.FunctionStatus {
	s.mu.Lock()
	fns := make([]*function, 0, len(s.functions))
	for _, f := range s.functions {
		fns = append(fns, f)
	}
	s.mu.Unlock()
	out := make([]types.FunctionStatus, 0, len(fns))
	for _, f := range fns {
		out = append(out, f.status())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Function returns the status of one function, or an error wrapping provider.ErrNotFound.
func (s *Supervisor) Function(name string) (types.FunctionStatus, error) {
	f, err := s.function(name)
	if err != nil {
		return types.FunctionStatus{}, err
	}
	return f.status(), nil
}

// Ready returns nil when a process of the function can take a request; otherwise an error wrapping
// provider.ErrNotFound for a function not deployed, or provider.ErrUnavailable saying why no process
// is ready (scaled to zero, starting, crashed).
func (s *Supervisor) Ready(name string) error {
	f, err := s.function(name)
	if err != nil {
		return err
	}
	return f.ready()
}

// Resolve returns the base URL of a ready process of the function, taking turns among them. Its
// errors are Ready's.
func (s *Supervisor) Resolve(name string) (url.URL, error) {
	f, err := s.function(name)
	if err != nil {
		return url.URL{}, err
	}
	in, err := f.pick()
	if err != nil {
		return url.URL{}, err
	}
	return in.address(), nil
}

// MaxBodyBytes is the request body limit the function's environment sets: max_body_bytes (bytes, the
// convention of of-watchdog-style runtimes), from stack.yml or the deploy request; 0 when it sets none
// or a value that is not a positive integer, or the function is not deployed.
func (s *Supervisor) MaxBodyBytes(name string) int64 {
	f, err := s.function(name)
	if err != nil {
		return 0
	}
	f.mu.Lock()
	v := f.spec.env["max_body_bytes"]
	f.mu.Unlock()
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// Invoked counts an invocation of the function (its invocationCount). An unknown name is ignored.
func (s *Supervisor) Invoked(name string) {
	if f, err := s.function(name); err == nil {
		f.invocations.Add(1)
	}
}

// Query returns the stored output lines of a function's processes that match req and, when
// req.Follow is set, the lines that follow until ctx ends or CloseLogStreams is called. It never fails.
func (s *Supervisor) Query(ctx context.Context, req logs.Request) (<-chan logs.Message, error) {
	return s.logs.Query(ctx, req)
}

// Known reports whether a function has logs: it was deployed at some time, even if deleted since.
func (s *Supervisor) Known(name string) bool { return s.logs.known(name) }

// Healthy returns nil while the supervisor runs and an error wrapping provider.ErrStopped once it is
// shutting down.
func (s *Supervisor) Healthy() error {
	if s.isStopping() {
		return provider.ErrStopped
	}
	return nil
}

func (s *Supervisor) function(name string) (*function, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.functions[name]
	if f == nil {
		return nil, fmt.Errorf("function %s: %w", name, provider.ErrNotFound)
	}
	return f, nil
}

// lock serialises the changes to one function (deploy, update, scale, delete).
func (s *Supervisor) lock(name string) func() {
	s.mu.Lock()
	l := s.locks[name]
	if l == nil {
		l = &sync.Mutex{}
		s.locks[name] = l
	}
	s.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// CloseLogStreams ends the log follow streams, so that an HTTP server can shut down.
func (s *Supervisor) CloseLogStreams() { s.logs.close() }

// Shutdown stops every function process: SIGTERM, then SIGKILL after Config.StopGrace. It returns when
// all have exited, or an error wrapping ctx's error if ctx ends first. Deploys after Shutdown fail with
// provider.ErrStopped.
func (s *Supervisor) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopped {
		s.stopped = true
		close(s.stopping)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.procs.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop functions: %w", ctx.Err())
	}
}
