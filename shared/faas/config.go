package faas

import (
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/stockalert/stockalert/shared/envconfig"
)

// DefaultMaxBodyBytes is the request body limit when max_body_bytes is not set: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// Config is the runtime configuration of a function process. The environment variable names and the
// duration format ("10s", or a bare number of seconds such as "10") are of-watchdog's; the rest are ours.
type Config struct {
	// Port is the TCP port to listen on.
	Port int `env:"port" envDefault:"8080"`
	// Bind is the address to listen on; empty means every interface. Set 127.0.0.1 for local runs.
	Bind string `env:"bind"`

	// ReadTimeout bounds reading a whole request, body included (0: no limit).
	ReadTimeout time.Duration `env:"read_timeout" envDefault:"10s"`
	// WriteTimeout bounds a request from the end of its headers to the end of the response (0: no
	// limit). It must exceed ExecTimeout so that the 504 of an overrunning handler reaches the client.
	WriteTimeout time.Duration `env:"write_timeout" envDefault:"12s"`
	// ExecTimeout is the deadline of one handler call: past it the client gets 504 and the handler's
	// context is cancelled (0: no limit).
	ExecTimeout time.Duration `env:"exec_timeout" envDefault:"10s"`
	// MaxInflight caps concurrent requests; requests beyond it get 429 at once (0: no limit).
	MaxInflight int `env:"max_inflight" envDefault:"0"`
	// MaxBodyBytes caps a request body; a larger body gets 413.
	MaxBodyBytes int64 `env:"max_body_bytes" envDefault:"1048576"`

	// ShutdownDelay is how long Serve keeps serving after its context is cancelled while /_/health
	// already answers 503, so a load balancer can stop routing to it (of-watchdog's
	// healthcheck_interval). Zero for local runs.
	ShutdownDelay time.Duration `env:"shutdown_delay" envDefault:"0s"`
	// ShutdownTimeout bounds the drain of requests in flight at shutdown; zero means WriteTimeout, or
	// 30s when that is zero too.
	ShutdownTimeout time.Duration `env:"shutdown_timeout"`

	// LockFile, when set, is written once the server listens and removed when it shuts down, for
	// OpenFaaS's exec health probe (`cat /tmp/.lock`). The container template sets /tmp/.lock; leave it
	// empty for local runs, where processes would share the file.
	LockFile string `env:"lock_file"`

	// SecretMountPath is where OpenFaaS mounts the function's secrets (see Secrets).
	SecretMountPath string `env:"secret_mount_path" envDefault:"/var/openfaas/secrets/"`

	// LogFormat is "json" or "text"; LogLevel is debug, info, warn or error (see NewLogger).
	LogFormat string     `env:"log_format" envDefault:"json"`
	LogLevel  slog.Level `env:"log_level" envDefault:"info"`
}

// ConfigFromEnv reads the Config from the process environment. It returns an error naming the variable
// when a value does not parse or the values contradict each other.
func ConfigFromEnv() (Config, error) {
	return parseConfig(env.Options{})
}

// ConfigFrom reads the Config from environ (variable name to value) instead of the process
// environment; nil means the process environment. Errors as ConfigFromEnv.
func ConfigFrom(environ map[string]string) (Config, error) {
	return parseConfig(env.Options{Environment: environ})
}

// DefaultConfig returns the Config of an empty environment.
func DefaultConfig() Config {
	cfg, err := parseConfig(env.Options{Environment: map[string]string{}})
	if err != nil {
		panic(fmt.Sprintf("faas: defaults do not parse: %v", err)) // a bug in the struct tags
	}
	return cfg
}

func parseConfig(opts env.Options) (Config, error) {
	opts.FuncMap = map[reflect.Type]env.ParserFunc{reflect.TypeOf(time.Duration(0)): parseWatchdogDuration}
	var cfg Config
	if err := envconfig.Parse(&cfg, opts); err != nil {
		return Config{}, fmt.Errorf("read function config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks the values are usable together. The error names the environment variable at fault.
func (c Config) Validate() error {
	switch {
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("invalid port %d: must be 0 to 65535", c.Port)
	case c.ReadTimeout < 0, c.WriteTimeout < 0, c.ExecTimeout < 0, c.ShutdownDelay < 0, c.ShutdownTimeout < 0:
		return fmt.Errorf("invalid timeouts: read_timeout, write_timeout, exec_timeout, shutdown_delay and shutdown_timeout must not be negative")
	case c.WriteTimeout > 0 && c.ExecTimeout == 0:
		return fmt.Errorf("invalid exec_timeout 0 (none) with write_timeout %s: set exec_timeout below write_timeout", c.WriteTimeout)
	case c.WriteTimeout > 0 && c.ExecTimeout >= c.WriteTimeout:
		return fmt.Errorf("invalid exec_timeout %s: must be below write_timeout %s so the 504 reaches the client", c.ExecTimeout, c.WriteTimeout)
	case c.MaxInflight < 0:
		return fmt.Errorf("invalid max_inflight %d: must not be negative", c.MaxInflight)
	case c.MaxBodyBytes <= 0:
		return fmt.Errorf("invalid max_body_bytes %d: must be positive", c.MaxBodyBytes)
	case c.LogFormat != "json" && c.LogFormat != "text":
		return fmt.Errorf("invalid log_format %q: must be json or text", c.LogFormat)
	}
	return nil
}

// shutdownTimeout is the drain deadline after the defaults are applied.
func (c Config) shutdownTimeout() time.Duration {
	switch {
	case c.ShutdownTimeout > 0:
		return c.ShutdownTimeout
	case c.WriteTimeout > 0:
		return c.WriteTimeout
	}
	return 30 * time.Second
}

// parseWatchdogDuration accepts of-watchdog's formats: a Go duration ("10s", "1m30s") or a bare
// non-negative number of seconds ("10").
func parseWatchdogDuration(v string) (any, error) {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return nil, fmt.Errorf("%q is not a duration such as 10s or 10", v)
	}
	return d, nil
}
