package faas

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// Process is what a function's wiring gets to build its handler: its configuration, logger, metrics
// registry and secrets, and places to register readiness checks and clean-ups.
type Process struct {
	Name     string
	Config   Config
	Logger   *slog.Logger
	Registry *prometheus.Registry
	Secrets  *Secrets

	checks  []Option
	closers []func() error
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
func Run(ctx context.Context, name string, wire Wiring) (err error) {
	cfg, err := ConfigFromEnv()
	if err != nil {
		return err
	}
	p := &Process{
		Name:     name,
		Config:   cfg,
		Logger:   NewLoggerTo(os.Stderr, name, cfg),
		Registry: prometheus.NewRegistry(),
		Secrets:  NewSecrets(cfg.SecretMountPath),
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
