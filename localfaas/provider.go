package localfaas

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/openfaas/faas-provider/auth"
	"github.com/openfaas/faas-provider/logs"
	"github.com/openfaas/faas-provider/types"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
)

// Config configures a Provider. Zero durations and counts take the defaults shown.
type Config struct {
	// Stack lists the functions that may be deployed; a deploy must name one of them with its image.
	Stack *Stack
	// DataDir holds bin/ (built functions) and secrets/ (function secrets). It is created if missing.
	DataDir string
	// Env is set in every function process over its stack.yml environment: the infrastructure
	// addresses (KAFKA_BROKERS, SQLITE_PATH or MYSQL_DSN, gateway_url). localfaas adds port and
	// secret_mount_path itself.
	Env map[string]string
	// GoCommand builds the functions ("go").
	GoCommand string
	// MaxReplicas bounds a function's replicas (10).
	MaxReplicas int
	// ReadyTimeout is how long an update keeps the old processes serving while the new ones get ready
	// (60s).
	ReadyTimeout time.Duration
	// StopGrace is how long a process has to exit after SIGTERM before it is killed (10s).
	StopGrace time.Duration
	// RestartInitial and RestartMax bound the exponential backoff between restarts of a crashed
	// process (500ms, 30s). The backoff starts over once a process has stayed up for StableAfter (30s).
	RestartInitial, RestartMax, StableAfter time.Duration
	// LogLines is how many lines of output are kept per function for /system/logs (2000).
	LogLines int
	// Echo, when set, is called with every line a function writes (the program prints some of them).
	Echo func(logs.Message)
	// Logger receives the provider's own events (builds, starts, crashes). Default: slog.Default().
	Logger *slog.Logger
	// Registerer receives the invocation and restart metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Provider runs the functions of a stack as local processes and serves the OpenFaaS provider API for
// them (see Handlers). Its methods are safe for concurrent use.
type Provider struct {
	cfg     Config
	log     *slog.Logger
	binDir  string
	secrets *secretStore
	logs    *logStore
	metrics *metrics

	// ctx bounds every process; Shutdown cancels it.
	ctx    context.Context
	cancel context.CancelFunc
	procs  sync.WaitGroup

	mu        sync.Mutex
	functions map[string]*function
	locks     map[string]*sync.Mutex
	seq       map[string]int // last instance number per function
	stopped   bool
}

// New prepares the data folder and returns a provider with no function deployed.
func New(cfg Config) (*Provider, error) {
	if cfg.Stack == nil {
		return nil, errors.New("localfaas: Config.Stack is required")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("localfaas: Config.DataDir is required")
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("localfaas: data folder: %w", err)
	}
	cfg.DataDir = dataDir
	setDefault(&cfg.GoCommand, "go")
	setDefault(&cfg.MaxReplicas, 10)
	setDefault(&cfg.ReadyTimeout, 60*time.Second)
	setDefault(&cfg.StopGrace, 10*time.Second)
	setDefault(&cfg.RestartInitial, 500*time.Millisecond)
	setDefault(&cfg.RestartMax, 30*time.Second)
	setDefault(&cfg.StableAfter, 30*time.Second)
	setDefault(&cfg.LogLines, 2000)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}

	binDir := filepath.Join(dataDir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, fmt.Errorf("localfaas: create %s: %w", binDir, err)
	}
	secrets, err := newSecretStore(SecretsDir(dataDir))
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Provider{
		cfg:       cfg,
		log:       cfg.Logger,
		binDir:    binDir,
		secrets:   secrets,
		logs:      newLogStore(cfg.LogLines),
		metrics:   m,
		ctx:       ctx,
		cancel:    cancel,
		functions: map[string]*function{},
		locks:     map[string]*sync.Mutex{},
		seq:       map[string]int{},
	}
	m.provider = p
	return p, nil
}

// SecretsDir is where the function secrets of a data folder live: the functions' secret_mount_path.
func SecretsDir(dataDir string) string { return filepath.Join(dataDir, "secrets") }

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Handlers returns the provider's endpoints for bootstrap.Serve. When creds is not nil every /system/
// endpoint (including /system/namespaces, which bootstrap leaves open) demands basic auth; leave
// FaaSConfig.EnableBasicAuth off. cfg gives the proxy its timeout (ReadTimeout) and the log stream its
// limit (WriteTimeout).
func (p *Provider) Handlers(creds *auth.BasicAuthCredentials, cfg types.FaaSConfig) *types.FaaSHandlers {
	protect := func(h http.HandlerFunc) http.HandlerFunc {
		if creds == nil {
			return h
		}
		return auth.DecorateWithBasicAuth(h, creds)
	}
	return &types.FaaSHandlers{
		ListNamespaces: protect(p.namespacesHandler()),
		FunctionProxy:  p.proxyHandler(cfg),
		FunctionLister: protect(p.listHandler()),
		DeployFunction: protect(p.deployHandler()),
		UpdateFunction: protect(p.updateHandler()),
		DeleteFunction: protect(p.deleteHandler()),
		FunctionStatus: protect(p.statusHandler()),
		ScaleFunction:  protect(p.scaleHandler()),
		Secrets:        protect(p.secretsHandler()),
		Logs:           protect(p.logsHandler(cfg.WriteTimeout)),
		Info:           protect(p.infoHandler()),
		Health:         p.healthHandler(),
	}
}

// DeployStack deploys every function of the stack with its stack.yml settings, building them in
// parallel. It returns the errors of all that failed.
func (p *Provider) DeployStack(ctx context.Context) error {
	var g errgroup.Group
	g.SetLimit(2)
	errs := make([]error, len(p.cfg.Stack.Functions))
	for i, name := range p.cfg.Stack.FunctionNames() {
		fn := p.cfg.Stack.Functions[name]
		g.Go(func() error {
			errs[i] = p.Deploy(ctx, StackDeployment(fn))
			return nil
		})
	}
	_ = g.Wait()
	return errors.Join(errs...)
}

// WaitReady waits until every deployed function has all its replicas ready. When ctx ends first it
// returns an error naming the functions that are not.
func (p *Provider) WaitReady(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var waiting []string
		for _, st := range p.Functions() {
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
func (p *Provider) Functions() []types.FunctionStatus {
	p.mu.Lock()
	fns := make([]*function, 0, len(p.functions))
	for _, f := range p.functions {
		fns = append(fns, f)
	}
	p.mu.Unlock()
	out := make([]types.FunctionStatus, 0, len(fns))
	for _, f := range fns {
		out = append(out, f.status())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Function returns the status of one function, or an error wrapping ErrNotFound.
func (p *Provider) Function(name string) (types.FunctionStatus, error) {
	f, err := p.function(name)
	if err != nil {
		return types.FunctionStatus{}, err
	}
	return f.status(), nil
}

func (p *Provider) function(name string) (*function, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.functions[name]
	if f == nil {
		return nil, fmt.Errorf("function %s: %w", name, ErrNotFound)
	}
	return f, nil
}

// lock serialises the changes to one function (deploy, update, scale, delete).
func (p *Provider) lock(name string) func() {
	p.mu.Lock()
	l := p.locks[name]
	if l == nil {
		l = &sync.Mutex{}
		p.locks[name] = l
	}
	p.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// CloseLogStreams ends the /system/logs follow streams, so that the HTTP server can shut down.
func (p *Provider) CloseLogStreams() { p.logs.close() }

// Shutdown stops every function process: SIGTERM, then SIGKILL after Config.StopGrace. It returns when
// all have exited, or ctx's error if ctx ends first. Deploys after Shutdown fail with ErrStopped.
func (p *Provider) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.cancel()
	done := make(chan struct{})
	go func() {
		p.procs.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop functions: %w", ctx.Err())
	}
}
