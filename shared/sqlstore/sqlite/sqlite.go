// Package sqlite opens the embedded store: an SQLite database file through the pure-Go
// modernc.org/sqlite driver (no cgo), in WAL mode so that several function processes can share it,
// with the schema migrated on open. It is the default when no MySQL DSN is configured.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/gofrs/flock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/stockalert/stockalert/schema"
	"github.com/stockalert/stockalert/shared/sqlstore"
)

// Dialect is the SQLite dialect of the SQL store. Every transaction is BEGIN IMMEDIATE (the DSN's
// _txlock), so writers queue on the database lock instead of failing on upgrade, and no row locks are
// needed.
var Dialect = sqlstore.Dialect{
	Name:        "sqlite3",
	Migrations:  schema.SQLite(),
	UpsertStyle: sqlstore.OnConflict,
	IsDuplicate: func(err error) bool {
		return hasCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) || hasCode(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	IsRetryable: func(err error) bool { return hasPrimaryCode(err, sqlite3.SQLITE_BUSY) },
}

func hasCode(err error, code int) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == code
}

func hasPrimaryCode(err error, code int) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == code
}

// BusyTimeout is how long a statement waits for another connection's write lock.
const BusyTimeout = 10 * time.Second

// Open opens (creating if needed) the database file at path, migrates its schema and returns the store.
// The folder is created too. Errors: the folder or file cannot be created or opened, or a migration
// failed.
func Open(ctx context.Context, path string, opts ...sqlstore.Option) (*sqlstore.Store, error) {
	db, err := openDB(ctx, path, false)
	if err != nil {
		return nil, err
	}
	if err := sqlstore.Migrate(ctx, db, Dialect, newFileLock(path+".migrate.lock")); err != nil {
		_ = db.Close() // the error that made us give up is the one to report
		return nil, err
	}
	return sqlstore.New(db, Dialect, append(opts, sqlstore.WithBackground(checkpoints))...), nil
}

// CheckpointInterval is how often a store copies the write-ahead log back into the database file.
const CheckpointInterval = time.Second

// checkpoints runs a PASSIVE WAL checkpoint every CheckpointInterval until ctx ends. SQLite's own
// (wal_autocheckpoint, every 1,000 pages by default) runs inside the COMMIT that crosses the threshold,
// which made one evaluation in about a hundred take 10–13 ms instead of 2 (README "Scaling:
// evaluation"); here a store's own goroutine does it, beside the writers: PASSIVE waits for no reader
// or writer and copies what it can. Every process that opens the store runs one; a checkpoint that
// meets another's, or a busy database, simply fails and the next one tries again, so its errors are
// dropped. Once a checkpoint has copied the whole log, the next writer starts it over from its
// beginning, so the file stays about one interval's worth of writes.
func checkpoints(ctx context.Context, db *sql.DB) {
	tick := time.NewTicker(CheckpointInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_, _ = db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// OpenDB opens the database file with the settings the store relies on (WAL, foreign keys, immediate
// transactions, a busy timeout), without migrating, and checks it can be read; ctx bounds that check.
// SQLite checkpoints its write-ahead log itself on this pool (Open's store runs its own checkpoints).
func OpenDB(ctx context.Context, path string) (*sql.DB, error) {
	return openDB(ctx, path, true)
}

// openDB is OpenDB; autoCheckpoint false turns SQLite's automatic checkpoints off on every connection
// (wal_autocheckpoint 0), for a store that runs its own (see checkpoints).
func openDB(ctx context.Context, path string, autoCheckpoint bool) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite: no path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("open sqlite: create folder: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if !autoCheckpoint {
		q.Add("_pragma", "wal_autocheckpoint(0)")
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+abs+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", abs, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	// A new connection runs the pragmas above; journal_mode(WAL) on a file that other processes are
	// opening at the same moment can meet their lock and answer SQLITE_BUSY without waiting for
	// busy_timeout (SQLite does not call the busy handler there). Connecting again a few milliseconds
	// later finds the mode set.
	_, err = backoff.Retry(ctx, func() (struct{}, error) {
		err := db.PingContext(ctx)
		if err != nil && !hasPrimaryCode(err, sqlite3.SQLITE_BUSY) {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{
		InitialInterval: 5 * time.Millisecond, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: 200 * time.Millisecond,
	}), backoff.WithMaxElapsedTime(BusyTimeout))
	if err != nil {
		_ = db.Close() // the error that made us give up is the one to report
		return nil, fmt.Errorf("open sqlite %s: %w", abs, err)
	}
	return db, nil
}

// migrationLockRetry is how often a process waiting for another's migration tries the lock again.
const migrationLockRetry = 50 * time.Millisecond

// fileLock serialises migrations across processes with an advisory lock on a file beside the database
// (flock on Unix, LockFileEx on Windows).
type fileLock struct {
	lock *flock.Flock
}

func newFileLock(path string) *fileLock { return &fileLock{lock: flock.New(path)} }

// Lock waits until no other process holds the lock, or ctx ends (an error wrapping ctx's).
func (l *fileLock) Lock(ctx context.Context, _ *sql.DB) error {
	ok, err := l.lock.TryLockContext(ctx, migrationLockRetry)
	if err != nil {
		return fmt.Errorf("migration lock %s: %w", l.lock.Path(), err)
	}
	if !ok {
		return fmt.Errorf("migration lock %s: not taken", l.lock.Path())
	}
	return nil
}

// Unlock releases the lock and closes the file.
func (l *fileLock) Unlock(context.Context, *sql.DB) error {
	if err := l.lock.Close(); err != nil {
		return fmt.Errorf("migration unlock %s: %w", l.lock.Path(), err)
	}
	return nil
}
