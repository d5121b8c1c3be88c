package faas

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/caarlos0/env/v11"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stockalert/stockalert/shared/envconfig"
)

// Process is what a function's wiring gets to build its handler: its configuration, environment,
// logger, metrics registry and secrets, and places to register readiness checks and clean-ups.
type Process struct {
	Name     string
	Config   Config
	Logger   *slog.Logger
	Registry *prometheus.Registry
	Secrets  *Secrets
	// Env is the environment the wiring reads its own configuration from (see Parse): the process
	// environment under Main and Run, the one given to RunEnv otherwise. Variable name to value.
	Env map[string]string

	checks  []Option
	closers []func() error
}

// Parse fills the struct v points to from p.Env, following its env tags (see shared/envconfig). The
// error names every variable that does not parse or is required and missing.
func (p *Process) Parse(v any) error {
	if err := envconfig.Parse(v, env.Options{Environment: p.Env}); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// Ready adds a readiness check to /_/health (for example a database ping).
func (p *Process) Ready(name string, check func(ctx context.Context) error) {
	p.checks = append(p.checks, WithReadiness(name, check))
}

// Defer registers a clean-up run after the server has drained, last registered first.
func (p *Process) Defer(cleanup func() error) { p.closers = append(p.closers, cleanup) }

// Dependency is something a function needs that can be checked and released, such as its store.
type Dependency interface {
	// Ping returns an error while the dependency cannot serve.
	Ping(ctx context.Context) error
	// Close releases it.
	Close() error
}

// Attach makes d a readiness check of /_/health named name, and closes it after the server has
// drained.
func (p *Process) Attach(name string, d Dependency) {
	p.Defer(d.Close)
	p.Ready(name, d.Ping)
}

// Wiring builds a function's handler from its process. It runs once, before the server listens; ctx is
// cancelled on SIGTERM or SIGINT.
type Wiring func(ctx context.Context, p *Process) (http.Handler, error)

// Main is the whole main() of a function binary: it reads the configuration, builds the logger,
// registry and secrets, calls wire, serves the handler until SIGTERM or SIGINT, drains, runs the
// clean-ups and exits — with status 1 and a logged error when any step fails.
func Main(name string, wire Wiring) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := Run(ctx, name, wire)
	stop()
	if err != nil {
		slog.Error("function failed", "function", name, "err", err)
		os.Exit(1)
	}
}

// Run is Main without the signal handling and the exit: it returns when ctx is cancelled and the
// server has drained, or with the first error.
func Run(ctx context.Context, name string, wire Wiring) error {
	return RunEnv(ctx, name, wire, environ())
}

// RunEnv is Run with environ (variable name to value) as the function's whole environment instead of
// the process's: its Config, its secrets' environment fallbacks and Process.Env come from environ
// only, so that several functions can run side by side in one process (tests), each with its own.
func RunEnv(ctx context.Context, name string, wire Wiring, environ map[string]string) (err error) {
	if environ == nil {
		environ = map[string]string{}
	}
	cfg, err := ConfigFrom(environ)
	if err != nil {
		return err
	}
	secrets := NewSecrets(cfg.SecretMountPath)
	secrets.lookupEnv = func(key string) (string, bool) {
		v, ok := environ[key]
		return v, ok
	}
	p := &Process{
		Name:     name,
		Config:   cfg,
		Logger:   NewLoggerTo(os.Stderr, name, cfg),
		Registry: prometheus.NewRegistry(),
		Secrets:  secrets,
		Env:      environ,
	}
	defer func() {
		for i := len(p.closers) - 1; i >= 0; i-- {
			if cerr := p.closers[i](); cerr != nil {
				p.Logger.Warn("clean-up failed", "err", cerr)
			}
		}
	}()
	h, err := wire(ctx, p)
	if err != nil {
		return fmt.Errorf("wire %s: %w", name, err)
	}
	return Serve(ctx, cfg, name, h, p.Logger, p.Registry, p.checks...)
}

// environ returns the process environment as a map.
func environ() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
