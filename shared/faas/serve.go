package faas

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Paths Serve answers itself, before the function's handler.
const (
	HealthPath  = "/_/health"
	MetricsPath = "/metrics"
)

// healthCheckTimeout bounds the readiness checks of one health request.
const healthCheckTimeout = 2 * time.Second

// Registry is where Serve registers its metrics and what GET /metrics exposes; *prometheus.Registry
// is one.
type Registry interface {
	prometheus.Registerer
	prometheus.Gatherer
}

// Option adjusts Serve.
type Option func(*serveOptions)

type serveOptions struct {
	listener net.Listener
	checks   []readinessCheck
}

type readinessCheck struct {
	name  string
	check func(context.Context) error
}

// WithReadiness gates GET /_/health on check (a database ping, say): while it fails, health answers 503
// and the failure is logged under name. Checks run on every health request, each bounded by a 2s
// deadline. Repeat the option for several checks.
func WithReadiness(name string, check func(ctx context.Context) error) Option {
	return func(o *serveOptions) { o.checks = append(o.checks, readinessCheck{name: name, check: check}) }
}

// WithListener makes Serve accept on ln instead of listening on bind:port; Serve closes it.
func WithListener(ln net.Listener) Option {
	return func(o *serveOptions) { o.listener = ln }
}

// Serve runs handler as function name until ctx is cancelled. It listens on cfg.Bind:cfg.Port, answers
// GET /_/health (200 once listening and every readiness check passes, 503 otherwise and from the moment
// ctx is cancelled) and GET /metrics (reg, plus Go and process collectors), and passes every other
// request through Middleware to handler.
//
// When ctx is cancelled Serve turns unhealthy, removes cfg.LockFile, keeps serving for
// cfg.ShutdownDelay, then stops accepting and waits for the requests in flight, up to the shutdown
// timeout. It returns nil after a complete drain, an error when requests were still running at the
// deadline (their connections are closed), and an error at once when it cannot listen, register its
// metrics or write the lock file.
func Serve(ctx context.Context, cfg Config, name string, handler http.Handler, logger *slog.Logger, reg Registry, opts ...Option) error {
	var o serveOptions
	for _, opt := range opts {
		opt(&o)
	}
	mw, err := prepare(cfg, name, logger, reg)
	if err != nil {
		if o.listener != nil {
			_ = o.listener.Close()
		}
		return err
	}

	ln := o.listener
	if ln == nil {
		addr := net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.Port))
		if ln, err = new(net.ListenConfig).Listen(ctx, "tcp", addr); err != nil {
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
	}

	var ready atomic.Bool
	health := healthHandler(&ready, o.checks, logger)
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	fn := mw(handler)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == HealthPath && (r.Method == http.MethodGet || r.Method == http.MethodHead):
				health.ServeHTTP(w, r)
			case r.URL.Path == MetricsPath && r.Method == http.MethodGet:
				metrics.ServeHTTP(w, r)
			default:
				fn.ServeHTTP(w, r)
			}
		}),
		ReadTimeout:    cfg.ReadTimeout,
		WriteTimeout:   cfg.WriteTimeout,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if cfg.ReadTimeout == 0 {
		srv.ReadHeaderTimeout = 10 * time.Second
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if cfg.LockFile != "" {
		if err := os.WriteFile(cfg.LockFile, nil, 0o600); err != nil {
			return errors.Join(fmt.Errorf("write lock file %s (unset lock_file to run without it): %w", cfg.LockFile, err),
				closeNow(srv, served))
		}
	}
	ready.Store(true)
	logger.Info("listening", slog.String("addr", ln.Addr().String()),
		slog.Duration("read_timeout", cfg.ReadTimeout), slog.Duration("write_timeout", cfg.WriteTimeout),
		slog.Duration("exec_timeout", cfg.ExecTimeout), slog.Int("max_inflight", cfg.MaxInflight),
		slog.Int64("max_body_bytes", cfg.MaxBodyBytes))

	select {
	case err := <-served:
		ready.Store(false)
		removeLock(cfg.LockFile, logger)
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	ready.Store(false)
	removeLock(cfg.LockFile, logger)
	if cfg.ShutdownDelay > 0 {
		logger.Info("shutting down: unhealthy, still serving", slog.Duration("shutdown_delay", cfg.ShutdownDelay))
		time.Sleep(cfg.ShutdownDelay)
	}
	timeout := cfg.shutdownTimeout()
	logger.Info("shutting down: draining requests in flight", slog.Duration("shutdown_timeout", timeout))
	drainCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(drainCtx); err != nil {
		return errors.Join(fmt.Errorf("drain requests in flight within %s: %w", timeout, err), closeNow(srv, served))
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	}
	logger.Info("stopped")
	return nil
}

// prepare checks cfg, registers the runtime collectors and builds the middleware.
// closeNow closes srv's connections at once and waits for its Serve, whose result arrives on served.
// It returns what went wrong besides the expected http.ErrServerClosed.
func closeNow(srv *http.Server, served <-chan error) error {
	closeErr := srv.Close()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(closeErr, err)
	}
	return closeErr
}

func prepare(cfg Config, name string, logger *slog.Logger, reg Registry) (func(http.Handler) http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		var already prometheus.AlreadyRegisteredError
		if err := reg.Register(c); err != nil && !errors.As(err, &already) {
			return nil, fmt.Errorf("register runtime metrics: %w", err)
		}
	}
	return Middleware(cfg, name, logger, reg)
}

func removeLock(path string, logger *slog.Logger) {
	if path == "" {
		return
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		logger.Warn("remove lock file", slog.String("path", path), slog.Any("error", err))
	}
}

// healthHandler answers 200 {"status":"ok"} while the server is ready and every check passes, and
// 503 with an error body otherwise. It logs at debug, and failed checks at warn.
func healthHandler(ready *atomic.Bool, checks []readinessCheck, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			logger.DebugContext(r.Context(), "health", slog.Int("status", http.StatusServiceUnavailable))
			writeError(w, http.StatusServiceUnavailable, "not ready: starting or shutting down", "")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), healthCheckTimeout)
		defer cancel()
		for _, c := range checks {
			if err := c.check(ctx); err != nil {
				logger.WarnContext(r.Context(), "readiness check failed", slog.String("check", c.name), slog.Any("error", err))
				writeError(w, http.StatusServiceUnavailable, "not ready: "+c.name, "")
				return
			}
		}
		logger.DebugContext(r.Context(), "health", slog.Int("status", http.StatusOK))
		writeAnswer(w, http.StatusOK, answer{Status: "ok"})
	})
}
