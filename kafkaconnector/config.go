package kafkaconnector

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is the connector's configuration. Each field is read from the environment variable named in
// its env tag (the OpenFaaS connectors' names); the envDefault tag is the default. A Config built
// directly may leave fields zero: New fills them with the same defaults before validating.
type Config struct {
	// GatewayURL is the OpenFaaS gateway: functions are listed and invoked through it.
	GatewayURL string `env:"gateway_url" envDefault:"http://gateway:8080"`
	// Brokers are the Kafka bootstrap brokers, host:port. From broker_hosts, else KAFKA_BROKERS.
	Brokers []string `env:"broker_hosts" envSeparator:","`
	// Topics are the topics consumed; a function subscribes with the annotation "topic: a,b".
	Topics []string `env:"topics" envSeparator:","`
	// Group is the Kafka consumer group; connectors in one group share the partitions.
	Group string `env:"group" envDefault:"faas-group-1"`
	// InitialOffset is where a partition without a committed offset starts: "oldest" or "latest".
	InitialOffset string `env:"initial_offset" envDefault:"oldest"`
	// UpstreamTimeout bounds one invocation attempt.
	UpstreamTimeout time.Duration `env:"upstream_timeout" envDefault:"2m"`
	// RebuildInterval is how often the function list is read from the gateway.
	RebuildInterval time.Duration `env:"rebuild_interval" envDefault:"30s"`
	// ContentType is the Content-Type of invocations.
	ContentType string `env:"content_type" envDefault:"text/plain"`
	// MaxBytes is the most a fetch from one partition may return.
	MaxBytes int `env:"max_bytes" envDefault:"1048576"`

	// CreateTopics makes the connector create the consumed topics that do not exist yet, with
	// TopicPartitions partitions (-1: the broker's num.partitions), instead of waiting for a producer
	// to create them. Turn it on when the functions it triggers produce to each other's topics.
	CreateTopics    bool `env:"create_topics" envDefault:"false"`
	TopicPartitions int  `env:"topic_partitions" envDefault:"-1"`

	// RetryAttempts is the number of attempts made in place (the first included), holding the
	// partition, for a 5xx, 408, 429, timeout or connection error; then the message is parked in
	// <topic>.retry and the partition moves on. 1 parks it after the first failure.
	RetryAttempts int `env:"retry_attempts" envDefault:"3"`
	// RetryInitialInterval is the wait before the first retry; waits double per attempt,
	// randomised by ±50%, up to RetryMaxInterval.
	RetryInitialInterval time.Duration `env:"retry_initial_interval" envDefault:"500ms"`
	// RetryMaxInterval caps the wait between attempts. A function's Retry-After (on 429 or 503) is
	// waited for in place up to it; a longer one parks the message until it has passed.
	RetryMaxInterval time.Duration `env:"retry_max_interval" envDefault:"30s"`
	// RetryWindow is how long a message is retried after its first failed attempt (in place, then
	// from the retry topic) before it goes to the dead-letter topic.
	RetryWindow time.Duration `env:"retry_window" envDefault:"1h"`

	// CommitInterval is the least time between offset commits; 0 commits as soon as the previous
	// commit is done, coalescing whatever finished meanwhile.
	CommitInterval time.Duration `env:"commit_interval" envDefault:"0s"`
	// ShutdownTimeout is how long in-flight invocations may run after Run's context is cancelled
	// before they are abandoned (and their messages left uncommitted).
	ShutdownTimeout time.Duration `env:"shutdown_timeout" envDefault:"30s"`

	// SessionTimeout, HeartbeatInterval and RebalanceTimeout tune the consumer group membership
	// (Kafka's JoinGroup session and rebalance timeouts, and the Heartbeat period). The session
	// timeout is how long the broker keeps a member that stopped heartbeating (a killed connector)
	// and holds its partitions; it must lie within the broker's group.min.session.timeout.ms (6s)
	// and group.max.session.timeout.ms (30m). The heartbeat should be at most a third of it.
	SessionTimeout    time.Duration `env:"session_timeout" envDefault:"10s"`
	HeartbeatInterval time.Duration `env:"heartbeat_interval" envDefault:"1s"`
	RebalanceTimeout  time.Duration `env:"rebalance_timeout" envDefault:"30s"`

	// BasicAuth makes the connector authenticate to the gateway with the credentials in the files
	// basic-auth-user and basic-auth-password under SecretMountPath.
	BasicAuth       bool   `env:"basic_auth" envDefault:"false"`
	SecretMountPath string `env:"secret_mount_path" envDefault:"/var/openfaas/secrets"`
}

// Initial offsets accepted in Config.InitialOffset.
const (
	OffsetOldest = "oldest"
	OffsetLatest = "latest"
)

// DefaultBroker is used when neither broker_hosts nor KAFKA_BROKERS is set.
const DefaultBroker = "kafka:9092"

// ConfigFromEnv reads the configuration from the process environment and validates it. Every error
// names the variable at fault.
func ConfigFromEnv() (Config, error) {
	return configFromEnvironment(env.ToMap(os.Environ()))
}

func configFromEnvironment(environ map[string]string) (Config, error) {
	var cfg Config
	if err := env.ParseWithOptions(&cfg, env.Options{Environment: environ}); err != nil {
		return Config{}, explainEnvError(err)
	}
	if _, set := environ["broker_hosts"]; !set {
		cfg.Brokers = strings.Split(environ["KAFKA_BROKERS"], ",")
	}
	cfg.Brokers = cleanList(cfg.Brokers)
	if len(cfg.Brokers) == 0 {
		cfg.Brokers = []string{DefaultBroker}
	}
	cfg.Topics = cleanList(cfg.Topics)
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// explainEnvError rewrites the env library's parse errors to name the variable, not the Go field.
func explainEnvError(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	t := reflect.TypeFor[Config]()
	var problems ConfigError
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			if f, ok := t.FieldByName(pe.Name); ok {
				problems = append(problems, fmt.Sprintf("%s: %v", f.Tag.Get("env"), pe.Err))
				continue
			}
		}
		problems = append(problems, e.Error())
	}
	return problems
}

func cleanList(in []string) []string {
	out := in[:0:0]
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// withDefaults returns c with every zero field set to its envDefault. It fails only when a default
// in the struct tags does not parse.
func (c Config) withDefaults() (Config, error) {
	var d Config
	if err := env.ParseWithOptions(&d, env.Options{Environment: map[string]string{}}); err != nil {
		return Config{}, fmt.Errorf("connector config defaults: %w", err)
	}
	orDefault(&c.GatewayURL, d.GatewayURL)
	orDefault(&c.Group, d.Group)
	orDefault(&c.InitialOffset, d.InitialOffset)
	orDefault(&c.UpstreamTimeout, d.UpstreamTimeout)
	orDefault(&c.RebuildInterval, d.RebuildInterval)
	orDefault(&c.ContentType, d.ContentType)
	orDefault(&c.MaxBytes, d.MaxBytes)
	orDefault(&c.RetryAttempts, d.RetryAttempts)
	orDefault(&c.TopicPartitions, d.TopicPartitions)
	orDefault(&c.RetryInitialInterval, d.RetryInitialInterval)
	orDefault(&c.RetryMaxInterval, d.RetryMaxInterval)
	orDefault(&c.RetryWindow, d.RetryWindow)
	orDefault(&c.ShutdownTimeout, d.ShutdownTimeout)
	orDefault(&c.SessionTimeout, d.SessionTimeout)
	orDefault(&c.HeartbeatInterval, d.HeartbeatInterval)
	orDefault(&c.RebalanceTimeout, d.RebalanceTimeout)
	orDefault(&c.SecretMountPath, d.SecretMountPath)
	if len(c.Brokers) == 0 {
		c.Brokers = []string{DefaultBroker}
	}
	return c, nil
}

func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

var topicName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// Validate checks every setting and returns all problems at once, each naming its variable.
func (c Config) Validate() error {
	var problems ConfigError
	bad := func(name, format string, args ...any) {
		problems = append(problems, name+": "+fmt.Sprintf(format, args...))
	}

	if u, err := url.Parse(c.GatewayURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("gateway_url", "%q is not an http(s) URL such as http://gateway:8080", c.GatewayURL)
	}
	if len(c.Brokers) == 0 {
		bad("broker_hosts", "is required (host:port, comma-separated; KAFKA_BROKERS is read when unset)")
	}
	for _, b := range c.Brokers {
		host, port, err := net.SplitHostPort(b)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			bad("broker_hosts", "%q is not host:port", b)
		}
	}
	if len(c.Topics) == 0 {
		bad("topics", "is required (comma-separated topic names)")
	}
	seen := map[string]bool{}
	for _, t := range c.Topics {
		switch {
		case !topicName.MatchString(t) || t == "." || t == ".." || len(RetryTopic(t)) > 249:
			bad("topics", "%q is not a Kafka topic name (letters, digits, . _ -; at most 249)", t)
		case seen[t]:
			bad("topics", "%q is listed twice", t)
		case strings.HasSuffix(t, RetrySuffix) || strings.HasSuffix(t, DeadLetterSuffix):
			bad("topics", "%q is a retry or dead-letter topic: the connector consumes <topic>%s itself, and redrives <topic>%s with `kafka-connector dlq`", t, RetrySuffix, DeadLetterSuffix)
		}
		seen[t] = true
	}
	if strings.TrimSpace(c.Group) == "" {
		bad("group", "is required")
	}
	if c.InitialOffset != OffsetOldest && c.InitialOffset != OffsetLatest {
		bad("initial_offset", "%q must be %q or %q", c.InitialOffset, OffsetOldest, OffsetLatest)
	}
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			bad(name, "must be a positive duration such as 30s (got %s)", d)
		}
	}
	positive("upstream_timeout", c.UpstreamTimeout)
	positive("rebuild_interval", c.RebuildInterval)
	positive("retry_initial_interval", c.RetryInitialInterval)
	positive("retry_max_interval", c.RetryMaxInterval)
	positive("retry_window", c.RetryWindow)
	positive("session_timeout", c.SessionTimeout)
	positive("heartbeat_interval", c.HeartbeatInterval)
	positive("rebalance_timeout", c.RebalanceTimeout)
	if c.RetryMaxInterval < c.RetryInitialInterval {
		bad("retry_max_interval", "(%s) must not be less than retry_initial_interval (%s)", c.RetryMaxInterval, c.RetryInitialInterval)
	}
	if c.HeartbeatInterval >= c.SessionTimeout {
		bad("heartbeat_interval", "(%s) must be less than session_timeout (%s)", c.HeartbeatInterval, c.SessionTimeout)
	}
	if c.TopicPartitions == 0 || c.TopicPartitions < -1 {
		bad("topic_partitions", "must be -1 (the broker's default) or at least 1 (got %d)", c.TopicPartitions)
	}
	if c.RetryAttempts < 1 {
		bad("retry_attempts", "must be at least 1 (got %d)", c.RetryAttempts)
	}
	if c.MaxBytes < 1 {
		bad("max_bytes", "must be at least 1 (got %d)", c.MaxBytes)
	}
	if c.CommitInterval < 0 {
		bad("commit_interval", "must not be negative (got %s)", c.CommitInterval)
	}
	if c.ShutdownTimeout < 0 {
		bad("shutdown_timeout", "must not be negative (got %s)", c.ShutdownTimeout)
	}
	if strings.TrimSpace(c.ContentType) == "" {
		bad("content_type", "is required")
	}
	if c.BasicAuth && c.SecretMountPath == "" {
		bad("secret_mount_path", "is required when basic_auth is true")
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// ConfigError lists every problem Validate found, each starting with the variable's name.
type ConfigError []string

func (e ConfigError) Error() string {
	return "connector config: " + strings.Join(e, "; ")
}
