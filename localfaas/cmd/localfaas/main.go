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
	bootstrap "github.com/openfaas/faas-provider"
	"github.com/openfaas/faas-provider/logs"
	"github.com/openfaas/faas-provider/types"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/stockalert/stockalert/kafkaconnector"
	"github.com/stockalert/stockalert/localfaas"
	"github.com/stockalert/stockalert/shared/stockalert"
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
	TelegramToken     string        `env:"TELEGRAM_BOT_TOKEN"`
	TelegramAPIURL    string        `env:"TELEGRAM_API_URL" envDefault:"https://api.telegram.org"`
	TelegramSecret    string        `env:"TELEGRAM_WEBHOOK_SECRET"`
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

	// Telegram: the token and the webhook secret become function secrets, so the functions and the
	// forwarder agree on them.
	telegramCfg, err := telegramSecrets(localfaas.SecretsDir(dataDir), cfg)
	if err != nil {
		return err
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
	if topics := stack.ConsumedTopics(); len(topics) > 0 {
		// The kafka-connector, in-process, reading the gateway's credentials as it would next to
		// OpenFaaS.
		conn, err := kafkaconnector.New(kafkaconnector.Config{
			GatewayURL:      gateway,
			Brokers:         strings.Split(brokers, ","),
			Topics:          topics,
			Group:           "localfaas",
			InitialOffset:   kafkaconnector.OffsetOldest,
			UpstreamTimeout: cfg.Timeout,
			RebuildInterval: 5 * time.Second,
			ContentType:     "application/json",
			BasicAuth:       true,
			SecretMountPath: localfaas.CredentialsDir(dataDir),
		}, logger.With("component", "kafka-connector"), prometheus.DefaultRegisterer)
		if err != nil {
			stopGateway()
			return err
		}
		triggers["kafka"] = conn
	}
	telegramDesc := "off (set TELEGRAM_BOT_TOKEN to long-poll the bot's updates)"
	if telegramCfg != nil {
		telegramCfg.Gateway, telegramCfg.Logger = gateway, logger
		fwd, err := localfaas.NewTelegramForwarder(*telegramCfg)
		if err != nil {
			stopGateway()
			return err
		}
		triggers["telegram"] = fwd
		telegramDesc = "long-polling " + cfg.TelegramAPIURL + ", forwarding to telegram-bot"
	}
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
		Telegram:  telegramDesc,
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

// telegramSecrets writes the bot token (TELEGRAM_BOT_TOKEN, else an existing secret file) and the
// webhook secret (TELEGRAM_WEBHOOK_SECRET, else the existing file, else a new random one) as function
// secrets, and returns the forwarder's configuration — or nil when no token is known.
func telegramSecrets(dir string, cfg config) (*localfaas.TelegramConfig, error) {
	token, err := localfaas.EnsureSecret(dir, "telegram-bot-token", cfg.TelegramToken, "")
	if err != nil || token == "" {
		return nil, err
	}
	secret, err := localfaas.EnsureSecret(dir, "telegram-webhook-secret", cfg.TelegramSecret, stockalert.NewSecret())
	if err != nil {
		return nil, err
	}
	return &localfaas.TelegramConfig{Token: token, APIURL: cfg.TelegramAPIURL, Secret: secret}, nil
}
