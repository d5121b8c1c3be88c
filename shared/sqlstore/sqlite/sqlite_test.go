package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/stretchr/testify/require"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/sqlite"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
)

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.OpenSQLite)
}

// lockedStore opens a store on a new database file whose write lock another connection holds until the
// test ends. The store keeps one connection, which gives up on the lock at once (busy_timeout 0), so
// every transaction attempt fails quickly with SQLITE_BUSY.
func lockedStore(t *testing.T, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stockalert.db")
	s, err := sqlite.Open(context.Background(), path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	s.DB().SetMaxOpenConns(1)
	_, err = s.DB().Exec("PRAGMA busy_timeout = 0")
	require.NoError(t, err)

	other, err := sqlite.OpenDB(context.Background(), path)
	require.NoError(t, err)
	hold, err := other.BeginTx(context.Background(), nil) // BEGIN IMMEDIATE: takes the write lock
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, hold.Rollback())
		require.NoError(t, other.Close())
	})
	return s
}

func isBusy(err error) bool { return sqlite.Dialect.IsRetryable(err) }

func TestBusyTransactionIsRunAgainAFewTimes(t *testing.T) {
	t.Parallel()
	var retries []error
	s := lockedStore(t, sqlstore.WithRetryNotify(func(err error, _ time.Duration) { retries = append(retries, err) }))

	called := false
	err := s.InTx(context.Background(), func(context.Context) error { called = true; return nil })
	require.Error(t, err)
	require.True(t, isBusy(err), "err = %v, want SQLITE_BUSY", err)
	require.False(t, called, "fn ran without the write lock")
	require.Len(t, retries, 3, "a busy transaction runs 4 times in all")
	for _, r := range retries {
		require.True(t, isBusy(r), "retried after %v", r)
	}
}

func TestOtherErrorsAreNotRetried(t *testing.T) {
	t.Parallel()
	retries := 0
	s := storetest.OpenSQLite(t, sqlstore.WithRetryNotify(func(error, time.Duration) { retries++ }))
	boom := errors.New("boom")
	err := s.InTx(context.Background(), func(context.Context) error { return boom })
	require.ErrorIs(t, err, boom)
	require.Zero(t, retries)
}

// A cancelled ctx stops the retries at once, while the database is still locked, and says so.
func TestCancelStopsTheRetryOfABusyTransaction(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	retried := make(chan error)
	s := lockedStore(t, sqlstore.WithRetryNotify(func(err error, _ time.Duration) {
		select {
		case retried <- err: // the test cancels ctx now
			<-ctx.Done()
		case <-ctx.Done():
		}
	}))

	done := make(chan error, 1)
	go func() { done <- s.InTx(ctx, func(context.Context) error { return nil }) }()
	select {
	case err := <-retried:
		require.True(t, isBusy(err), "retried after %v", err)
	case err := <-done:
		t.Fatalf("InTx returned before retrying: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("InTx never retried")
	}
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("InTx kept retrying after ctx was cancelled")
	}
	require.ErrorIs(t, err, context.Canceled)
	var se interface{ Code() int }
	require.ErrorAs(t, err, &se, "the last attempt's error is kept")
	require.Equal(t, sqlite3.SQLITE_BUSY, se.Code()&0xff)
}

// Function processes that start together on one database migrate it one at a time: each Open succeeds,
// and every migration is applied once.
func TestOpenersStartingTogetherMigrateOneAtATime(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "stockalert.db")
	const openers = 4
	errs := make(chan error, openers)
	for range openers {
		go func() {
			s, err := sqlite.Open(context.Background(), path)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range openers {
		require.NoError(t, <-errs)
	}
	db, err := sqlite.OpenDB(context.Background(), path)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	var rows, versions int
	require.NoError(t, db.QueryRow("SELECT COUNT(*), COUNT(DISTINCT version_id) FROM goose_db_version").Scan(&rows, &versions))
	require.Equal(t, versions, rows, "a migration was applied more than once")
	require.Positive(t, versions)
}

// Open does not migrate while another process holds the migration lock: it waits, and gives up when
// its ctx ends.
func TestOpenWaitsForTheMigrationLock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "stockalert.db")
	other := flock.New(path + ".migrate.lock")
	require.NoError(t, other.Lock())

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := sqlite.Open(ctx, path)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	db, err := sqlite.OpenDB(context.Background(), path)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	require.Zero(t, storetest.Count(t, db, "sqlite_master", "type = 'table' AND name NOT LIKE 'goose%' AND name NOT LIKE 'sqlite%'"),
		"migrated under another's lock")

	require.NoError(t, other.Unlock())
	s, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

func TestUpgradeToRules(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "stockalert.db")
	db, err := sqlite.OpenDB(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	storetest.UpgradeToRules(t, db, sqlite.Dialect, func(t *testing.T) *sqlstore.Store {
		s, err := sqlite.Open(context.Background(), path)
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
