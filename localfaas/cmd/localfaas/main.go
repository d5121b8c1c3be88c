// Command localfaas runs the functions of a stack.yml on this machine, without containers: an OpenFaaS
// gateway and provider API (faas-provider's routes and handlers, on 127.0.0.1 unless GATEWAY_BIND), one supervised process per replica, the
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
	"io"
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
	"github.com/openfaas/faas-provider/logs"
	"github.com/openfaas/faas-provider/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/stockalert/stockalert/kafkaconnector"
	"github.com/stockalert/stockalert/localfaas/autoscale"
	"github.com/stockalert/stockalert/localfaas/embedded"
	"github.com/stockalert/stockalert/localfaas/provider"
	"github.com/stockalert/stockalert/localfaas/secret"
	"github.com/stockalert/stockalert/localfaas/stack"
	"github.com/stockalert/stockalert/localfaas/supervisor"
	"github.com/stockalert/stockalert/localfaas/trigger"
	"github.com/stockalert/stockalert/shared/faas"
)

// The data folder's layout (see localfaas/README.md).
func binDir(dataDir string) string { return filepath.Join(dataDir, "bin") }

func secretsDir(dataDir string) string     { return filepath.Join(dataDir, "secrets") }
func credentialsDir(dataDir string) string { return filepath.Join(dataDir, "gateway") }
func kafkaDir(dataDir string) string       { return filepath.Join(dataDir, "kafka") }
func sqlitePath(dataDir string) string     { return filepath.Join(dataDir, "stockalert.db") }

// optionalSecrets are the secrets of stack.yml that the functions read as optional (shared/faas's
// Secrets.Optional: an empty value is "not set"): mysql-dsn (SQLite without it), telegram-bot-token (a
// dry notifier and a bot answering 503 without it) and telegram-webhook-secret (needed only with a
// token). make run gives each an empty placeholder, so the default start warns about none of them.
var optionalSecrets = []string{"mysql-dsn", "telegram-bot-token", "telegram-webhook-secret"}

// telegramFunction is the stack's webhook function the Telegram forwarder delivers to.
const telegramFunction = "telegram-bot"

// maxReplicas is the most processes a function runs (the supervisor's limit, and the autoscaler's cap
// on com.openfaas.scale.max).
const maxReplicas = 10

type config struct {
	GatewayPort       int           `env:"GATEWAY_PORT" envDefault:"8080"`
	GatewayBind       string        `env:"GATEWAY_BIND" envDefault:"127.0.0.1"`
	Role              string        `env:"LOCALFAAS_ROLE" envDefault:"gateway"`
	ExternalCron      bool          `env:"EXTERNAL_CRON" envDefault:"false"`
	DataDir           string        `env:"DATA_DIR" envDefault:"./data"`
	BasicAuthPassword string        `env:"BASIC_AUTH_PASSWORD"`
	KafkaBrokers      string        `env:"KAFKA_BROKERS"`
	KafkaPort         int           `env:"KAFKA_PORT" envDefault:"0"`
	MySQLDSN          string        `env:"MYSQL_DSN"`
	Timeout           time.Duration `env:"GATEWAY_TIMEOUT" envDefault:"60s"`
	ReadyTimeout      time.Duration `env:"READY_TIMEOUT" envDefault:"60s"`
	StopGrace         time.Duration `env:"STOP_GRACE" envDefault:"10s"`
	FunctionLogs      string        `env:"FUNCTION_LOGS" envDefault:"notable"`
	SecretsLink       string        `env:"SECRETS_LINK"` // e.g. /var/openfaas/secrets: made a link to <data>/secrets
	Autoscale         bool          `env:"AUTOSCALE" envDefault:"false"`
	ScaleToZeroAfter  time.Duration `env:"SCALE_TO_ZERO_AFTER" envDefault:"0s"`
	ScaleFromZeroWait time.Duration `env:"SCALE_FROM_ZERO_TIMEOUT" envDefault:"30s"`
	TelegramToken     string        `env:"TELEGRAM_BOT_TOKEN"`
	TelegramAPIURL    string        `env:"TELEGRAM_API_URL"` // empty: the one kept with the token, else the real Bot API
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

	st, err := stack.Load(stackFile, os.LookupEnv)
	if err != nil {
		return err
	}
	for _, w := range st.Warnings {
		logger.Warn("stack file", "path", st.Path, "warning", w)
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	creds, err := provider.Credentials(credentialsDir(dataDir), cfg.BasicAuthPassword)
	if err != nil {
		return err
	}
	role, err := provider.ParseRole(cfg.Role)
	if err != nil {
		return fmt.Errorf("LOCALFAAS_ROLE: %w", err)
	}
	// The gateway's listener, opened now so that a taken port is known before anything starts; on
	// loopback unless GATEWAY_BIND says otherwise. Serve closes it.
	ln, err := listenGateway(cfg.GatewayBind, cfg.GatewayPort)
	if err != nil {
		return err
	}
	lnOwned := true
	defer func() {
		if lnOwned {
			_ = ln.Close() // start-up failed before Serve took it: nothing more to report
		}
	}()
	gateway := gatewayURL(ln.Addr())

	// Infrastructure: the broker with its topics, and the store, before any function starts.
	brokers, kafkaDesc := cfg.KafkaBrokers, "KAFKA_BROKERS "+cfg.KafkaBrokers
	var broker *embedded.Broker
	if brokers == "" {
		broker, err = embedded.StartBroker(embedded.BrokerConfig{Port: cfg.KafkaPort, DataDir: kafkaDir(dataDir)})
		if err != nil {
			return err
		}
		defer broker.Close()
		brokers, kafkaDesc = broker.Addr(), "embedded "+broker.Addr()
	}
	// A broker that cannot be reached does not stop the run: the topics are created in the background
	// once it answers (the connector waits for them), and the status table says so.
	topicsCtx, stopTopics := context.WithCancel(ctx)
	topicsDone := ensureTopics(topicsCtx, strings.Split(brokers, ","), st.Topics(), st.TopicPartitions(), &kafkaDesc, logger)
	defer func() { stopTopics(); <-topicsDone }()
	functionEnv := map[string]string{"KAFKA_BROKERS": brokers, "gateway_url": gateway}
	store := "MySQL (MYSQL_DSN)"
	if cfg.MySQLDSN != "" {
		functionEnv["MYSQL_DSN"] = cfg.MySQLDSN
	} else {
		functionEnv["SQLITE_PATH"] = sqlitePath(dataDir)
		store = "SQLite " + functionEnv["SQLITE_PATH"]
	}

	// Telegram: the token and the webhook secret become function secrets, so the functions and the
	// forwarder agree on them.
	secrets, err := secret.New(secretsDir(dataDir))
	if err != nil {
		return err
	}
	if cfg.SecretsLink != "" {
		if err := linkSecrets(cfg.SecretsLink, secrets.Dir()); err != nil {
			return fmt.Errorf("SECRETS_LINK: %w", err)
		}
		logger.Info("secrets: "+cfg.SecretsLink+" links to the secrets folder", "folder", secrets.Dir())
	}
	telegramCfg, tokenSource, err := telegramSecrets(secrets, cfg, dataDir)
	if err != nil {
		return err
	}
	// The secrets stack.yml mounts but the functions do without (SQLite when mysql-dsn is empty, a dry
	// notifier without a bot token): OpenFaaS refuses a deploy whose secret is missing, so a real
	// deploy creates them all (make secrets); here an empty one stands for "not set".
	for _, name := range optionalSecrets {
		if err := secrets.Placeholder(name); err != nil {
			return fmt.Errorf("secrets: %w", err)
		}
	}
	if telegramCfg != nil {
		// The functions talk to the Bot API the token belongs to, as the forwarder does.
		functionEnv["TELEGRAM_API_URL"] = telegramCfg.APIURL
		logger.Info("telegram: bot token "+tokenSource, "api", telegramCfg.APIURL)
	}

	sup, err := supervisor.New(supervisor.Config{
		Stack:        st,
		BinDir:       binDir(dataDir),
		SecretsDir:   secrets.Dir(),
		Env:          functionEnv,
		ReadyTimeout: cfg.ReadyTimeout,
		StopGrace:    cfg.StopGrace,
		MaxReplicas:  maxReplicas,
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
		if err := sup.Shutdown(stopCtx); err != nil {
			logger.Error("stop functions", "err", err)
		}
	}()

	// The gateway: every /system route behind basic auth (Handlers adds it, including /system/namespaces).
	metrics, err := provider.NewMetrics(prometheus.DefaultRegisterer, sup)
	if err != nil {
		return err
	}
	faasConfig := types.FaaSConfig{ReadTimeout: cfg.Timeout, WriteTimeout: cfg.Timeout}
	// Scaling: the autoscaler counts the invocations (and runs once the stack is up); the waker scales
	// a function from zero on its first call.
	scaler := autoscale.New(sup, autoscale.Config{Autoscale: cfg.Autoscale, Limit: maxReplicas, IdleAfter: cfg.ScaleToZeroAfter, Logger: logger})
	handlers := provider.Handlers(sup, secrets, metrics, provider.Options{
		Creds:    creds,
		Role:     role,
		Observer: scaler,
		Waker:    autoscale.NewWaker(sup, maxReplicas, cfg.ScaleFromZeroWait),
		// The functions' runtime (shared/faas) limits a body to 1 MiB unless max_body_bytes says
		// otherwise: the gateway answers a larger one 413 itself.
		DefaultMaxBodyBytes: faas.DefaultMaxBodyBytes,
	}, faasConfig)
	router := provider.NewRouter(handlers, metrics, promhttp.Handler())
	serveCtx, stopServe := context.WithCancel(context.Background())
	served := make(chan struct{})
	lnOwned = false
	go func() {
		defer close(served)
		if err := provider.Serve(serveCtx, ln, router, faasConfig); err != nil {
			logger.Error("gateway stopped", "err", err)
			stop() // the gateway is gone: stop the rest
		}
	}()
	stopGateway := func() {
		sup.CloseLogStreams()
		stopServe()
		<-served
	}
	if err := awaitHealthy(ctx, gateway+"/healthz"); err != nil {
		stopGateway()
		return err
	}

	// The functions.
	err = sup.DeployStack(ctx)
	if err == nil {
		readyCtx, cancelReady := context.WithTimeout(ctx, cfg.ReadyTimeout)
		err = sup.WaitReady(readyCtx)
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

	// Autoscaling, stopped before the functions are.
	if cfg.Autoscale || cfg.ScaleToZeroAfter > 0 {
		scaleCtx, stopScaling := context.WithCancel(ctx)
		scaling := make(chan struct{})
		go func() { defer close(scaling); scaler.Run(scaleCtx, time.Second) }()
		defer func() { stopScaling(); <-scaling }()
	}

	// The triggers.
	cronTrigger, err := trigger.NewCronTrigger(trigger.CronConfig{
		Gateway:    gateway,
		Functions:  sup,
		Timeout:    cfg.Timeout,
		Logger:     logger,
		Registerer: prometheus.DefaultRegisterer,
		External:   cfg.ExternalCron,
	})
	if err != nil {
		stopGateway()
		return err
	}
	triggers := map[string]trigger.Trigger{"cron": cronTrigger}
	if topics := st.ConsumedTopics(); len(topics) > 0 {
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
			SecretMountPath: credentialsDir(dataDir),
		}, logger.With("component", "kafka-connector"), prometheus.DefaultRegisterer)
		if err != nil {
			stopGateway()
			return err
		}
		triggers["kafka"] = conn
	}
	telegramDesc := func() string { return "off (set TELEGRAM_BOT_TOKEN to long-poll the bot's updates)" }
	var telegramTried <-chan struct{}
	if telegramCfg != nil {
		telegramCfg.Gateway, telegramCfg.Logger = gateway, logger
		fwd, err := trigger.NewTelegramForwarder(*telegramCfg)
		if err != nil {
			stopGateway()
			return err
		}
		triggers["telegram"] = fwd
		telegramTried = fwd.Tried()
		telegramDesc = func() string { return fwd.State() + "\n\ttoken " + tokenSource }
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

	cronDesc := ""
	if cfg.ExternalCron {
		cronDesc = "off: schedules left to an external cron-connector (EXTERNAL_CRON)"
	}
	if telegramTried != nil {
		// Show how the first try went (a Bot API that refuses or cannot be reached is retried meanwhile).
		select {
		case <-telegramTried:
		case <-time.After(5 * time.Second):
		case <-gctx.Done():
		}
	}
	if err := writeSummary(os.Stdout, summary{
		Gateway:   gateway,
		Listen:    net.JoinHostPort(cfg.GatewayBind, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)),
		Role:      string(role),
		Cron:      cronDesc,
		User:      creds.User,
		Password:  creds.Password,
		Functions: sup.Functions(),
		DataDir:   dataDir,
		Store:     store,
		Kafka:     kafkaDesc,
		Topics:    runTopics(st),
		Telegram:  telegramDesc(),
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
	// sup.Shutdown and broker.Close run deferred, in that order.
	return runErr
}

// listenGateway opens the gateway's listener on host:port (host 127.0.0.1 by default: GATEWAY_BIND;
// port 0 picks a free one). Its error names the setting to change.
func listenGateway(host string, port int) (net.Listener, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	l, err := new(net.ListenConfig).Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("gateway address %s is taken or not this machine's (set GATEWAY_PORT to another port, 0 for any, or GATEWAY_BIND to another address): %w", addr, err)
	}
	return l, nil
}

// gatewayURL is the base URL localfaas itself (the triggers, the functions' gateway_url, the status
// table) reaches the gateway at: its listening address, or loopback when it listens on every interface.
func gatewayURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// awaitHealthy waits for the gateway to answer.
func awaitHealthy(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return fmt.Errorf("gateway health %s: %w", url, err)
	}
	for {
		if res, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			if res.Body.Close() == nil && res.StatusCode == http.StatusOK {
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

// echoFunctionLogs chooses which function output is printed: all, notable (see supervisor.Notable) or
// none.
func echoFunctionLogs(mode string) (func(logs.Message), error) {
	echo := func(m logs.Message) { _, _ = fmt.Fprintf(os.Stderr, "%s | %s\n", m.Instance, m.Text) } // the console: nowhere to report to
	switch mode {
	case "all":
		return echo, nil
	case "notable":
		return func(m logs.Message) {
			if supervisor.Notable(m.Text) {
				echo(m)
			}
		}, nil
	case "none":
		return nil, nil
	}
	return nil, errors.New("FUNCTION_LOGS must be all, notable or none, not " + strconv.Quote(mode))
}
