// Package storetest opens real stores for tests and holds the contract suite that every store must
// pass: the same cases, with the same expectations, against the embedded SQLite store always and against
// MySQL/MariaDB when MYSQL_DSN is set.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/mysql"
	"github.com/stockalert/stockalert/shared/sqlstore/sqlite"
)

// Opener opens a fresh, empty, migrated store for one test; it is closed (and its data dropped) when
// the test ends.
type Opener func(t testing.TB, opts ...sqlstore.Option) *sqlstore.Store

// OpenSQLite opens a store on a new SQLite file in the test's temporary folder.
func OpenSQLite(t testing.TB, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "stockalert.db"), opts...)
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	closeAtEnd(t, "store", s)
	return s
}

// MySQLDSN returns MYSQL_DSN, skipping the test when it is not set.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("MYSQL_DSN")
	if dsn == "" {
		t.Skip("MYSQL_DSN is not set: the MySQL cases run in CI (.ci/run) or when you point MYSQL_DSN at a server")
	}
	return dsn
}

// ScratchMySQL creates a new database named stockalert_t_<random> on the MYSQL_DSN server (the DSN's
// user needs CREATE and DROP on stockalert_% databases), drops it when the test ends, and returns a DSN
// naming it. It skips the test when MYSQL_DSN is not set.
func ScratchMySQL(t testing.TB) string {
	t.Helper()
	cfg, err := gomysql.ParseDSN(MySQLDSN(t))
	if err != nil {
		t.Fatalf("parse MYSQL_DSN: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "stockalert_t_" + hex.EncodeToString(b)
	admin, err := mysql.OpenDB(cfg.FormatDSN(), mysql.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("connect to MYSQL_DSN: %v", err)
	}
	closeAtEnd(t, "admin connection", admin)
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE `"+name+"`"); err != nil {
		t.Fatalf("create scratch database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE `"+name+"`"); err != nil {
			t.Errorf("drop scratch database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

// OpenMySQL opens a store on a scratch database (see ScratchMySQL).
func OpenMySQL(t testing.TB, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	s, err := mysql.Open(context.Background(), ScratchMySQL(t), mysql.Options{}, opts...)
	if err != nil {
		t.Fatalf("open mysql store: %v", err)
	}
	closeAtEnd(t, "store", s)
	return s
}

// Open opens the store the environment selects: MySQL when MYSQL_DSN is set, SQLite otherwise. Tests of
// the functions use it so that CI runs them against both.
func Open(t testing.TB, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	if os.Getenv("MYSQL_DSN") != "" {
		return OpenMySQL(t, opts...)
	}
	return OpenSQLite(t, opts...)
}

// Count returns SELECT COUNT(*) FROM table [WHERE where] (for asserting what was or was not written).
func Count(t testing.TB, db *sql.DB, table, where string, args ...any) int {
	t.Helper()
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// closeAtEnd closes c when the test ends (after the cleanups registered later), failing the test if
// that fails.
func closeAtEnd(t testing.TB, what string, c io.Closer) {
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close %s: %v", what, err)
		}
	})
}
