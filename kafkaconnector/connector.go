package kafkaconnector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	sharedkafka "github.com/stockalert/stockalert/shared/kafka"
)

// Connector consumes the configured topics and invokes the subscribed functions. Create it with
// New and start it with Run.
type Connector struct {
	cfg       Config
	log       *slog.Logger
	metrics   *metrics
	http      *http.Client
	discovery *discovery
	delivery  *delivery
	transport *kafka.Transport
	admin     *kafka.Client
	writer    *kafka.Writer
	dialer    *kafka.Dialer
	// fetchMaxWait is the partition readers' MaxWait: fetchMaxWait but in tests.
	fetchMaxWait time.Duration

	started atomic.Bool
	ready   atomic.Bool
	readers sync.WaitGroup // partition readers being closed
}

// New checks cfg (after filling its zero fields with the defaults), reads the gateway credentials
// when cfg.BasicAuth is set, and registers the connector's metrics with reg (nil: not exported). It
// connects to nothing: Run does. It returns a ConfigError for a bad cfg, and an error when the
// credential files cannot be read or the metrics are already registered with reg.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Connector, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(cfg.GatewayURL)
	if err != nil { // Validate parsed it already
		return nil, fmt.Errorf("connector: gateway_url: %w", err)
	}
	gw := &gateway{base: base, client: newHTTPClient()}
	if cfg.BasicAuth {
		if gw.creds, err = readCredentials(cfg.SecretMountPath); err != nil {
			return nil, err
		}
	}

	// The transport (dead-letter writer, topic admin) caches the metadata of only our topics, so it
	// can refresh it often and see new topics soon.
	topics := slices.Clone(cfg.Topics)
	for _, t := range cfg.Topics {
		topics = append(topics, DeadLetterTopic(t), RetryTopic(t))
	}
	transport := &kafka.Transport{ClientID: ConnectorName, DialTimeout: 10 * time.Second,
		MetadataTTL: time.Second, MetadataTopics: topics}
	c := &Connector{
		cfg:       cfg,
		log:       log,
		metrics:   m,
		http:      gw.client,
		discovery: newDiscovery(gw, cfg.Topics, log, m),
		transport: transport,
		admin:     &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Transport: transport, Timeout: 30 * time.Second},
		writer: &kafka.Writer{
			Addr:         kafka.TCP(cfg.Brokers...),
			Balancer:     &kafka.Murmur2Balancer{},
			RequiredAcks: kafka.RequireAll,
			BatchTimeout: 2 * time.Millisecond,
			Transport:    transport,
			ErrorLogger:  kafkaLogger(log, slog.LevelWarn),
		},
		dialer:       &kafka.Dialer{ClientID: ConnectorName, Timeout: 10 * time.Second, DualStack: true},
		fetchMaxWait: fetchMaxWait,
	}
	c.delivery = &delivery{
		routes:  c.discovery,
		invoker: instrumentedInvoker{next: &invoker{gw: gw, contentType: cfg.ContentType, timeout: cfg.UpstreamTimeout}, metrics: m},
		deadLetters: &deadLetters{w: c.writer, metrics: m, log: log,
			retry: retryPolicy{initial: cfg.RetryInitialInterval, max: cfg.RetryMaxInterval}},
		retry: retryPolicy{attempts: cfg.RetryAttempts, initial: cfg.RetryInitialInterval, max: cfg.RetryMaxInterval},
		parking: &parking{w: c.writer, metrics: m, log: log, window: cfg.RetryWindow,
			write:   retryPolicy{initial: cfg.RetryInitialInterval, max: cfg.RetryMaxInterval},
			backoff: retryPolicy{initial: cfg.RetryInitialInterval, max: cfg.RetryMaxInterval}},
		retryTopics: map[string]bool{},
		metrics:     m,
		log:         log,
		warnedAt:    map[string]time.Time{},
	}
	for _, t := range cfg.Topics {
		c.delivery.retryTopics[RetryTopic(t)] = true
	}
	return c, nil
}

func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          512,
			MaxIdleConnsPerHost:   512,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		// A redirect is an answer like any other non-2xx: it is not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Ready reports whether Run is past its preparation (dead-letter topics, consumed topics, function
// list) and consuming, and has not returned.
func (c *Connector) Ready() bool { return c.ready.Load() }

// Run creates the missing dead-letter topics, waits for the consumed topics to exist and reads the
// function list (each retried until it succeeds), then joins the consumer group and delivers
// messages until ctx is cancelled. It then stops fetching, lets in-flight invocations finish for up
// to Config.ShutdownTimeout (abandoning the rest), commits what succeeded, leaves the group and
// closes its connections.
//
// Run returns nil after a shutdown asked for by ctx. It returns an error, without waiting for ctx,
// when Kafka refuses to create a dead-letter topic for a reason retrying cannot fix (such as missing
// authorisation). Run may be called once per Connector.
func (c *Connector) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("connector: Run may be called only once")
	}
	defer c.close()
	defer c.readers.Wait()
	if err := c.prepare(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	c.ready.Store(true)
	defer c.ready.Store(false)

	done := make(chan struct{})
	go func() {
		defer close(done)
		c.discovery.run(ctx, c.cfg.RebuildInterval)
	}()
	defer func() { <-done }()
	return c.consume(ctx)
}

// prepare creates the dead-letter topics, waits for the consumed topics, creates their retry topics
// (with as many partitions as each topic) and reads the function list, retrying each until it
// succeeds or ctx ends.
func (c *Connector) prepare(ctx context.Context) error {
	retry := retryPolicy{initial: 500 * time.Millisecond, max: 15 * time.Second}
	ensure := func(specs []sharedkafka.TopicSpec) error {
		_, err := retry.do(ctx, func() error {
			// EnsureTopics retries unreachable brokers until its context ends: bound each attempt so
			// that a broker that stays away is logged.
			attempt, cancel := context.WithTimeout(ctx, ensureTopicsAttempt)
			defer cancel()
			err := sharedkafka.EnsureTopics(attempt, c.cfg.Brokers, specs...)
			var kerr kafka.Error
			if err == nil || ctx.Err() != nil || (errors.As(err, &kerr) && !kerr.Temporary()) {
				return err
			}
			return transient{err}
		}, func(err error, wait time.Duration) {
			c.log.Warn("create topics; retrying", "topics", topicNames(specs), "err", err, "wait", wait)
		})
		if err != nil {
			return fmt.Errorf("connector: %w", err)
		}
		return nil
	}
	// A consumer group that watches a missing topic rejoins in a tight loop; wait for the topics.
	wait := func(names []string) (map[string]int, error) {
		var partitions map[string]int
		waitTopics := retryPolicy{initial: 500 * time.Millisecond, max: 2 * time.Second}
		_, err := waitTopics.do(ctx, func() error {
			var missing []string
			var err error
			partitions, missing, err = topicPartitions(ctx, c.admin, names)
			if err == nil && len(missing) > 0 {
				err = fmt.Errorf("topics %s do not exist", strings.Join(missing, ", "))
			}
			if err != nil && ctx.Err() == nil {
				return transient{err}
			}
			return err
		}, func(err error, wait time.Duration) {
			c.log.Warn("waiting for the topics to exist (create_topics=false: the connector creates only its dead-letter and retry topics)", "err", err, "wait", wait)
		})
		if err != nil {
			return nil, fmt.Errorf("connector: %w", err)
		}
		return partitions, nil
	}

	specs := make([]sharedkafka.TopicSpec, 0, 2*len(c.cfg.Topics))
	for _, t := range c.cfg.Topics {
		// The broker's default partitions and replication.
		specs = append(specs, sharedkafka.TopicSpec{Name: DeadLetterTopic(t)})
	}
	if c.cfg.CreateTopics {
		for _, t := range c.cfg.Topics {
			// Config.Validate keeps topic_partitions to -1 or 1…2^31-1.
			specs = append(specs, sharedkafka.TopicSpec{Name: t, Partitions: int32(c.cfg.TopicPartitions)}) //nolint:gosec // G115: validated range
		}
	}
	if err := ensure(specs); err != nil {
		return err
	}
	partitions, err := wait(c.cfg.Topics)
	if err != nil {
		return err
	}
	// A retry topic has as many partitions as its topic, so that retries run as parallel as the
	// messages themselves.
	specs = specs[:0]
	for _, t := range c.cfg.Topics {
		specs = append(specs, sharedkafka.TopicSpec{Name: RetryTopic(t), Partitions: int32(min(partitions[t], math.MaxInt32))}) //nolint:gosec // G115: bounded
	}
	if err := ensure(specs); err != nil { // it returns once every partition has a leader
		return err
	}
	_, err = retry.do(ctx, func() error {
		err := c.discovery.refresh(ctx)
		if err != nil && ctx.Err() == nil {
			return transient{err}
		}
		return err
	}, func(err error, wait time.Duration) {
		c.log.Warn("read the function list from the gateway; retrying before consuming", "gateway", c.cfg.GatewayURL,
			"err", err, "wait", wait)
	})
	if err != nil {
		return fmt.Errorf("connector: %w", err)
	}
	return nil
}

// consumed returns the topics the consumer group reads: the configured ones and their retry topics.
func (c *Connector) consumed() []string {
	out := slices.Clone(c.cfg.Topics)
	for _, t := range c.cfg.Topics {
		out = append(out, RetryTopic(t))
	}
	return out
}

func (c *Connector) close() {
	if err := c.writer.Close(); err != nil {
		c.log.Warn("close dead-letter writer", "err", err)
	}
	c.transport.CloseIdleConnections()
	c.http.CloseIdleConnections()
}

// kafkaLogger adapts slog to kafka-go's printf-style logger.
func kafkaLogger(log *slog.Logger, level slog.Level) kafka.Logger {
	return kafka.LoggerFunc(func(format string, args ...any) {
		if log.Enabled(context.Background(), level) {
			log.Log(context.Background(), level, "kafka: "+fmt.Sprintf(format, args...))
		}
	})
}

// partitionLogger is kafkaLogger for a partition reader fetching under fetchCtx: once fetchCtx has
// ended (the partition was released, or the connector is stopping) the reader's errors are the
// cancellation itself ("context canceled" while it was still connecting) and are logged at debug
// level, so a stop prints no warnings.
func partitionLogger(fetchCtx context.Context, log *slog.Logger, level slog.Level) kafka.Logger {
	return kafka.LoggerFunc(func(format string, args ...any) {
		l := level
		if fetchCtx.Err() != nil {
			l = slog.LevelDebug
		}
		if log.Enabled(context.Background(), l) {
			log.Log(context.Background(), l, "kafka: "+fmt.Sprintf(format, args...))
		}
	})
}

// ensureTopicsAttempt bounds one attempt to create the topics in Run's preparation.
const ensureTopicsAttempt = 15 * time.Second

func topicNames(specs []sharedkafka.TopicSpec) []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return names
}

// topicPartitions returns the partition count of each named topic the cluster knows, and the names
// it does not know (as of the client's metadata cache, refreshed every few seconds).
func topicPartitions(ctx context.Context, client *kafka.Client, names []string) (map[string]int, []string, error) {
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: names})
	if err != nil {
		return nil, nil, fmt.Errorf("read topic metadata: %w", err)
	}
	counts := map[string]int{}
	var missing []string
	for _, t := range meta.Topics {
		if t.Error != nil || len(t.Partitions) == 0 {
			missing = append(missing, t.Name)
			continue
		}
		counts[t.Name] = len(t.Partitions)
	}
	return counts, missing, nil
}
