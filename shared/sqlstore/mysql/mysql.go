// Package mysql opens the production store: MySQL or MariaDB through github.com/go-sql-driver/mysql,
// with the schema migrated on open (safely when several processes open it at once).
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3/lock"

	"github.com/stockalert/stockalert/schema"
	"github.com/stockalert/stockalert/shared/sqlstore"
)

// MySQL error numbers the store reacts to.
const (
	errDupEntry        = 1062
	errLockWaitTimeout = 1205
	errDeadlock        = 1213
)

// Dialect is the MySQL/MariaDB dialect of the SQL store.
var Dialect = sqlstore.Dialect{
	Name:              "mysql",
	Migrations:        schema.MySQL(),
	TxOptions:         &sql.TxOptions{Isolation: sql.LevelReadCommitted},
	ForUpdate:         " FOR UPDATE",
	SkipLocked:        " FOR UPDATE SKIP LOCKED",
	UpsertStyle:       sqlstore.OnDuplicateKey,
	MergesIndexRanges: true,
	IsDuplicate:       func(err error) bool { return hasNumber(err, errDupEntry) },
	IsRetryable:       func(err error) bool { return hasNumber(err, errDeadlock) || hasNumber(err, errLockWaitTimeout) },
}

func hasNumber(err error, n uint16) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == n
}

// Options tune the connection pool.
type Options struct {
	MaxOpenConns    int           // default 10
	ConnMaxLifetime time.Duration // default 5m (below typical server and proxy idle timeouts)
}

// Open connects to the database named in dsn (go-sql-driver format, e.g.
// "user:pass@tcp(127.0.0.1:3306)/stockalert"), migrates its schema and returns the store. The DSN must
// name a database. Errors: a malformed DSN, an unreachable server, or a failed migration.
func Open(ctx context.Context, dsn string, o Options, opts ...sqlstore.Option) (*sqlstore.Store, error) {
	db, err := OpenDB(dsn, o)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("connect to mysql: %w", err), db.Close())
	}
	locker, err := lock.NewMySQLTableLocker(lock.WithTableLockTimeout(250*time.Millisecond, 1200))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("migration lock: %w", err), db.Close())
	}
	if err := sqlstore.Migrate(ctx, db, Dialect, locker); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return sqlstore.New(db, Dialect, opts...), nil
}

// OpenDB returns a pool for dsn with the settings the store relies on (UTC, found-rows semantics for
// UPDATE counts, utf8mb4), without connecting or migrating.
func OpenDB(dsn string, o Options) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse MYSQL_DSN: %w", err)
	}
	if cfg.DBName == "" {
		return nil, errors.New("parse MYSQL_DSN: it must name a database (…/dbname)")
	}
	cfg.Loc = time.UTC
	cfg.ParseTime = true       // goose's lock table scans DATETIME columns
	cfg.ClientFoundRows = true // UPDATE reports matched rows, so "not found" is never "unchanged"
	cfg.Collation = "utf8mb4_general_ci"
	// One round trip per statement instead of three (prepare, execute, close): the driver quotes the
	// arguments into the text itself. Safe here: utf8mb4 is not one of the multi-byte character sets
	// (Big5, GBK, SJIS…) whose escaping it cannot do, which it refuses anyway (errInvalidDSNUnsafeCollation),
	// and the store never enables multiStatements. Measured in README "Scaling: evaluation".
	cfg.InterpolateParams = true
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql connector: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(defaultInt(o.MaxOpenConns, 10))
	db.SetMaxIdleConns(defaultInt(o.MaxOpenConns, 10))
	db.SetConnMaxLifetime(defaultDur(o.ConnMaxLifetime, 5*time.Minute))
	return db, nil
}

func defaultInt(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

func defaultDur(v, d time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return d
}
