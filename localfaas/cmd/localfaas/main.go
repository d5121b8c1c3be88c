// Command localfaas runs the functions of a stack.yml on this machine, without containers: an OpenFaaS
// gateway and provider API (faas-provider's bootstrap.Serve), one supervised process per replica, the
// cron trigger, an embedded Kafka broker unless KAFKA_BROKERS is set, and SQLite unless MYSQL_DSN is set.
// Ctrl-C stops the triggers, lets the work in flight finish, then stops the functions and the broker.
//
//	localfaas [-f stack.yml]
//
// See localfaas/README.md for the environment variables.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/openfaas/faas-provider"
	"github.com/openfaas/faas-provider/logs"
	"github.com/openfaas/faas-provider/types"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/stockalert/stockalert/localfaas"
)

type config struct {
	GatewayPort       int           `env:"GATEWAY_PORT" envDefault:"8080"`
	DataDir           string        `env:"DATA_DIR" envDefault:"./data"`
	BasicAuthPassword string        `env:"BASIC_AUTH_PASSWORD"`
	KafkaBrokers      string        `env:"KAFKA_BROKERS"`
	KafkaPort         int           `env:"KAFKA_PORT" envDefault:"0"`
	MySQLDSN          string        `env:"MYSQL_DSN"`
	Timeout           time.Duration `env:"GATEWAY_TIMEOUT" envDefault:"60s"`
	ReadyTimeout      time.Duration `env:"READY_TIMEOUT" envDefault:"60s"`
	StopGrace         time.Duration `env:"STOP_GRACE" envDefault:"10s"`
	FunctionLogs      string        `env:"FUNCTION_LOGS" envDefault:"notable"`
}

func main() {
	stackFile := flag.String("f", "stack.yml", "the stack file whose functions to run")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(logger)
	if err := run(*stackFile, logger); err != nil {
		fmt.Fprintln(os.Stderr, "localfaas:", err)
		os.Exit(1)
	}
}

func run(stackFile string, logger *slog.Logger) error {
	started := time.Now()
	defer logger.Info("stopped")
	cfg, err := env.ParseAs[config]()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	echo, err := echoFunctionLogs(cfg.FunctionLogs)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	stack, err := localfaas.LoadStack(stackFile, os.LookupEnv)
	if err != nil {
		return err
	}
	for _, w := range stack.Warnings {
		logger.Warn("stack file", "path", stack.Path, "warning", w)
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	creds, err := localfaas.Credentials(localfaas.CredentialsDir(dataDir), cfg.BasicAuthPassword)
	if err != nil {
		return err
	}
	port, err := gatewayPort(cfg.GatewayPort)
	if err != nil {
		return err
	}
	gateway := "http://127.0.0.1:" + strconv.Itoa(port)

	// Infrastructure: the broker with its topics, and the store, before any function starts.
	brokers, kafkaDesc := cfg.KafkaBrokers, "KAFKA_BROKERS "+cfg.KafkaBrokers
	var broker *localfaas.Broker
	if brokers == "" {
		broker, err = localfaas.StartBroker(localfaas.BrokerConfig{Port: cfg.KafkaPort, DataDir: filepath.Join(dataDir, "kafka")})
		if err != nil {
			return err
		}
		defer broker.Close()
		brokers, kafkaDesc = broker.Addr(), "embedded "+broker.Addr()
	}
	topicCtx, cancelTopics := context.WithTimeout(ctx, 30*time.Second)
	err = localfaas.CreateTopics(topicCtx, strings.Split(brokers, ","), stack.Topics())
	cancelTopics()
	if err != nil {
		return err
	}
	functionEnv := map[string]string{"KAFKA_BROKERS": brokers, "gateway_url": gateway}
	store := "MySQL (MYSQL_DSN)"
	if cfg.MySQLDSN != "" {
		functionEnv["MYSQL_DSN"] = cfg.MySQLDSN
	} else {
		functionEnv["SQLITE_PATH"] = filepath.Join(dataDir, "stockalert.db")
		store = "SQLite " + functionEnv["SQLITE_PATH"]
	}

	provider, err := localfaas.New(localfaas.Config{
		Stack:        stack,
		DataDir:      dataDir,
		Env:          functionEnv,
		ReadyTimeout: cfg.ReadyTimeout,
		StopGrace:    cfg.StopGrace,
		Echo:         echo,
		Logger:       logger,
		Registerer:   prometheus.DefaultRegisterer,
	})
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 3*cfg.StopGrace)
		defer cancel()
		if err := provider.Shutdown(stopCtx); err != nil {
			logger.Error("stop functions", "err", err)
		}
	}()

	// The gateway: every /system route behind basic auth (Handlers adds it, including /system/namespaces).
	faasConfig := &types.FaaSConfig{TCPPort: &port, ReadTimeout: cfg.Timeout, WriteTimeout: cfg.Timeout}
	serveCtx, stopServe := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		bootstrap.Serve(serveCtx, provider.Handlers(creds, *faasConfig), faasConfig)
	}()
	stopGateway := func() {
		provider.CloseLogStreams()
		stopServe()
		<-served
	}
	if err := awaitHealthy(ctx, gateway+"/healthz"); err != nil {
		stopGateway()
		return err
	}

	// The functions.
	err = provider.DeployStack(ctx)
	if err == nil {
		readyCtx, cancelReady := context.WithTimeout(ctx, cfg.ReadyTimeout)
		err = provider.WaitReady(readyCtx)
		cancelReady()
	}
	if err != nil {
		stopGateway()
		if ctx.Err() != nil {
			logger.Info("interrupted during start-up")
			return nil
		}
		return err
	}

	// The triggers.
	cronTrigger, err := localfaas.NewCronTrigger(localfaas.CronConfig{
		Gateway:    gateway,
		Functions:  provider,
		Timeout:    cfg.Timeout,
		Logger:     logger,
		Registerer: prometheus.DefaultRegisterer,
	})
	if err != nil {
		stopGateway()
		return err
	}
	triggers := map[string]localfaas.Trigger{"cron": cronTrigger}
	// Seam for the lead: the Kafka trigger (kafka-connector's *connector.Connector, built with the
	// gateway URL, creds, brokers and stack.Topics()) and, when TELEGRAM_BOT_TOKEN is set, the Telegram
	// long-poll forwarder are added to triggers here; each is a localfaas.Trigger.
	triggerCtx, stopTriggers := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(triggerCtx)
	for name, t := range triggers {
		g.Go(func() error {
			if err := t.Run(gctx); err != nil {
				return fmt.Errorf("%s trigger: %w", name, err)
			}
			return nil
		})
	}

	if err := localfaas.WriteSummary(os.Stdout, localfaas.Summary{
		Gateway:   gateway,
		User:      creds.User,
		Password:  creds.Password,
		Functions: provider.Functions(),
		DataDir:   dataDir,
		Store:     store,
		Kafka:     kafkaDesc,
		Topics:    stack.Topics(),
		ReadyIn:   time.Since(started),
	}); err != nil {
		logger.Warn("print summary", "err", err)
	}

	<-gctx.Done()
	stop() // a second Ctrl-C ends localfaas at once
	logger.Info("stopping: triggers")
	stopTriggers()
	runErr := g.Wait()
	logger.Info("stopping: gateway (in-flight requests finish)")
	stopGateway()
	logger.Info("stopping: functions")
	// provider.Shutdown and broker.Close run deferred, in that order.
	return runErr
}

// gatewayPort checks the port is free (bootstrap.Serve would exit the program if it were not) or, for 0,
// picks a free one.
func gatewayPort(port int) (int, error) {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return 0, fmt.Errorf("gateway port %d is taken (set GATEWAY_PORT to another, or 0 for any): %w", port, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// awaitHealthy waits for the gateway to answer.
func awaitHealthy(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gateway did not come up at %s: %w", url, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// echoFunctionLogs chooses which function output is printed: all, notable (see localfaas.Notable) or
// none.
func echoFunctionLogs(mode string) (func(logs.Message), error) {
	print := func(m logs.Message) { fmt.Fprintf(os.Stderr, "%s | %s\n", m.Instance, m.Text) }
	switch mode {
	case "all":
		return print, nil
	case "notable":
		return func(m logs.Message) {
			if localfaas.Notable(m.Text) {
				print(m)
			}
		}, nil
	case "none":
		return nil, nil
	}
	return nil, errors.New("FUNCTION_LOGS must be all, notable or none, not " + strconv.Quote(mode))
}
