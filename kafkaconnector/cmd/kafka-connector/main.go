// Command kafka-connector triggers OpenFaaS functions from Kafka topics. It is wiring only: the
// environment, logs, signals and a /metrics and /healthz listener around the connector package,
// whose README lists the settings. `kafka-connector dlq list|redrive` inspects and redrives
// dead-letter topics (see dlqUsage).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stockalert/stockalert/kafkaconnector"
)

// program holds the settings of the process around the connector.
type program struct {
	MetricsPort int        `env:"metrics_port" envDefault:"8081"`
	LogLevel    slog.Level `env:"log_level" envDefault:"info"`
	LogFormat   string     `env:"log_format" envDefault:"json"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "dlq" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := runDLQ(ctx, os.Args[2:], os.Getenv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "kafka-connector:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kafka-connector:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	p, err := env.ParseAs[program]()
	if err != nil {
		return fmt.Errorf("config: %w (metrics_port, log_level, log_format)", err)
	}
	if p.MetricsPort < 0 || p.MetricsPort > 65535 {
		return fmt.Errorf("config: metrics_port: %d is not a port", p.MetricsPort)
	}
	opts := &slog.HandlerOptions{Level: p.LogLevel}
	var handler slog.Handler
	switch p.LogFormat {
	case "json":
		handler = slog.NewJSONHandler(os.Stderr, opts)
	case "text":
		handler = slog.NewTextHandler(os.Stderr, opts)
	default:
		return fmt.Errorf("config: log_format: %q must be json or text", p.LogFormat)
	}
	log := slog.New(handler)

	cfg, err := kafkaconnector.ConfigFromEnv()
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	c, err := kafkaconnector.New(cfg, log, reg)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !c.Ready() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", ":"+strconv.Itoa(p.MetricsPort))
	if err != nil {
		return fmt.Errorf("listen for /metrics: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	log.Info("kafka-connector starting", "gateway_url", cfg.GatewayURL, "broker_hosts", cfg.Brokers,
		"topics", cfg.Topics, "group", cfg.Group, "metrics", ln.Addr().String())
	runErr := c.Run(ctx)

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("stop /metrics listener", "err", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("/metrics listener", "err", err)
	}
	if runErr != nil {
		return runErr
	}
	log.Info("kafka-connector stopped")
	return nil
}
