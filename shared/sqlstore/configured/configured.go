// Package configured opens the SQL store a process is configured for: MySQL/MariaDB when a DSN is given (the
// OpenFaaS secret mysql-dsn, or MYSQL_DSN), otherwise the embedded SQLite file at SQLITE_PATH. It is
// the one place that choice is made.
package configured

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/stockalert/stockalert/shared/envconfig"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/mysql"
	"github.com/stockalert/stockalert/shared/sqlstore/sqlite"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Config is the storage configuration from the environment.
type Config struct {
	// SQLitePath is the database file used when no MySQL DSN is configured.
	SQLitePath string `env:"SQLITE_PATH" envDefault:"data/stockalert.db"`
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL time.Duration `env:"IDEMPOTENCY_TTL" envDefault:"24h"`
	// MaxOpenConns bounds the MySQL connection pool of one process.
	MaxOpenConns int `env:"DB_MAX_OPEN_CONNS" envDefault:"10"`
}

// SecretSource reads OpenFaaS secrets (faas.Secrets).
type SecretSource interface {
	Optional(name, envFallback string) (value string, ok bool, err error)
}

// MySQLDSNSecret is the OpenFaaS secret holding the MySQL DSN; MYSQL_DSN is its environment fallback.
const MySQLDSNSecret = "mysql-dsn" //nolint:gosec // G101: a secret's name, not a credential

// Open reads Config from the environment and opens the configured store, migrating its schema. It
// logs which store it opened (never the DSN). Errors: bad configuration, an unreadable secret, an
// unreachable database or a failed migration.
func Open(ctx context.Context, secrets SecretSource, logger *slog.Logger) (*sqlstore.Store, error) {
	return OpenFrom(ctx, nil, secrets, logger)
}

// OpenFrom is Open reading Config from environ (variable name to value) instead of the process
// environment; nil means the process environment. The MySQL DSN's environment fallback is the
// secrets' own.
func OpenFrom(ctx context.Context, environ map[string]string, secrets SecretSource, logger *slog.Logger) (*sqlstore.Store, error) {
	var cfg Config
	if err := envconfig.Parse(&cfg, env.Options{Environment: environ}); err != nil {
		return nil, fmt.Errorf("storage config: %w", err)
	}
	if cfg.IdempotencyTTL <= 0 {
		cfg.IdempotencyTTL = stockalert.DefaultIdempotencyTTL
	}
	opts := []sqlstore.Option{sqlstore.WithIdempotencyTTL(cfg.IdempotencyTTL)}
	dsn, ok, err := secrets.Optional(MySQLDSNSecret, "MYSQL_DSN")
	if err != nil {
		return nil, err
	}
	if ok {
		s, err := mysql.Open(ctx, dsn, mysql.Options{MaxOpenConns: cfg.MaxOpenConns}, opts...)
		if err != nil {
			return nil, err
		}
		logger.Info("store opened", "store", "mysql")
		return s, nil
	}
	s, err := sqlite.Open(ctx, cfg.SQLitePath, opts...)
	if err != nil {
		return nil, err
	}
	logger.Info("store opened", "store", "sqlite", "path", cfg.SQLitePath)
	return s, nil
}
