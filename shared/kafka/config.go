package kafka

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/stockalert/stockalert/shared/envconfig"
)

// Config configures a Publisher. ConfigFromEnv reads it from the environment variables in the tags.
type Config struct {
	// Brokers are the bootstrap brokers, host:port.
	Brokers []string `env:"KAFKA_BROKERS,required,notEmpty" envSeparator:","`
	// ClientID names the process to the brokers (their logs and quotas).
	ClientID string `env:"KAFKA_CLIENT_ID" envDefault:"stockalert"`
	// WriteTimeout bounds one produce request to a broker, acknowledgements included.
	WriteTimeout time.Duration `env:"KAFKA_WRITE_TIMEOUT" envDefault:"10s"`
	// BatchTimeout is how long a partition's batch waits for more messages before it is sent when a
	// Publish call does not fill it: the added latency of a small Publish.
	BatchTimeout time.Duration `env:"KAFKA_BATCH_TIMEOUT" envDefault:"2ms"`
	// BatchSize is the most messages sent to one partition in one produce request.
	BatchSize int `env:"KAFKA_BATCH_SIZE" envDefault:"1000"`
	// MaxAttempts is how many times kafka-go tries a produce request that failed with a retriable
	// error before Publish gives up on it.
	MaxAttempts int `env:"KAFKA_MAX_ATTEMPTS" envDefault:"3"`
	// AllowAutoTopicCreation lets a publish to a missing topic create it on brokers that allow it.
	// Leave it off and create topics with EnsureTopics.
	AllowAutoTopicCreation bool `env:"KAFKA_AUTO_CREATE_TOPICS" envDefault:"false"`
}

// ConfigFromEnv reads the Config from the environment. It fails when KAFKA_BROKERS is unset or empty or
// a value does not parse, naming the variable.
func ConfigFromEnv() (Config, error) {
	return ConfigFrom(nil)
}

// ConfigFrom is ConfigFromEnv reading environ (variable name to value) instead of the process
// environment; nil means the process environment.
func ConfigFrom(environ map[string]string) (Config, error) {
	var cfg Config
	if err := envconfig.Parse(&cfg, env.Options{Environment: environ}); err != nil {
		return Config{}, fmt.Errorf("read kafka config: %w", err)
	}
	return cfg.normalised()
}

// NewConfig returns the defaults of ConfigFromEnv for brokers.
func NewConfig(brokers ...string) Config {
	cfg, err := env.ParseAsWithOptions[Config](env.Options{Environment: map[string]string{"KAFKA_BROKERS": "unset"}})
	if err != nil {
		panic(fmt.Sprintf("kafka: defaults do not parse: %v", err)) // a bug in the struct tags
	}
	cfg.Brokers = brokers
	return cfg
}

// normalised trims the broker list and checks the values.
func (c Config) normalised() (Config, error) {
	brokers := make([]string, 0, len(c.Brokers))
	for _, b := range c.Brokers {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	c.Brokers = brokers
	switch {
	case len(c.Brokers) == 0:
		return Config{}, errors.New("invalid KAFKA_BROKERS: no broker address")
	case c.WriteTimeout <= 0:
		return Config{}, fmt.Errorf("invalid KAFKA_WRITE_TIMEOUT %s: must be positive", c.WriteTimeout)
	case c.BatchTimeout <= 0:
		return Config{}, fmt.Errorf("invalid KAFKA_BATCH_TIMEOUT %s: must be positive", c.BatchTimeout)
	case c.BatchSize <= 0:
		return Config{}, fmt.Errorf("invalid KAFKA_BATCH_SIZE %d: must be positive", c.BatchSize)
	case c.MaxAttempts <= 0:
		return Config{}, fmt.Errorf("invalid KAFKA_MAX_ATTEMPTS %d: must be positive", c.MaxAttempts)
	}
	return c, nil
}
