package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// Store is the SQL implementation of the command and query ports. It is safe for concurrent use; keep
// one per process.
type Store struct {
	db             *sql.DB
	d              Dialect
	now            func() time.Time
	idempotencyTTL time.Duration
	onRetry        func(err error, wait time.Duration)
	// stmts holds the hot statements prepared once per store (query text → *sql.Stmt), see prepared.
	stmts sync.Map
	// background: see WithBackground; stop ends it, done is closed when it has returned.
	background func(ctx context.Context, db *sql.DB)
	stop       context.CancelFunc
	done       chan struct{}
}

// Option configures a Store.
type Option func(*Store)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithIdempotencyTTL sets how long idempotency records are kept (default
// stockalert.DefaultIdempotencyTTL).
func WithIdempotencyTTL(d time.Duration) Option { return func(s *Store) { s.idempotencyTTL = d } }

// WithRetryNotify sets a function called each time a transaction failed with a deadlock, lock timeout
// or busy database and is about to be run again: err is that attempt's error, wait the pause before the
// next one. It must not block (for logs, metrics and tests).
func WithRetryNotify(notify func(err error, wait time.Duration)) Option {
	return func(s *Store) { s.onRetry = notify }
}

// WithBackground runs fn in a goroutine of the store's from New until Close, which cancels fn's ctx
// and waits for fn to return (the SQLite store's WAL checkpoints, kept out of the commits' path).
func WithBackground(fn func(ctx context.Context, db *sql.DB)) Option {
	return func(s *Store) { s.background = fn }
}

// New wraps an open database whose schema is migrated (see Migrate). The Store owns db: Close closes it.
func New(db *sql.DB, d Dialect, opts ...Option) *Store {
	s := &Store{db: db, d: d, now: time.Now, idempotencyTTL: stockalert.DefaultIdempotencyTTL}
	for _, o := range opts {
		o(s)
	}
	if s.background != nil {
		ctx, stop := context.WithCancel(context.Background())
		s.stop, s.done = stop, make(chan struct{})
		go func() {
			defer close(s.done)
			s.background(ctx, db)
		}()
	}
	return s
}

// DB returns the underlying database (for health checks and tests).
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the store's dialect name.
func (s *Store) Dialect() string { return s.d.Name }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.d.Name, err)
	}
	return nil
}

// Close closes the prepared statements and the database; its error joins theirs.
func (s *Store) Close() error {
	if s.stop != nil {
		s.stop()
		<-s.done
	}
	var errs []error
	s.stmts.Range(func(_, v any) bool {
		errs = append(errs, v.(*sql.Stmt).Close())
		return true
	})
	return errors.Join(append(errs, s.db.Close())...)
}

// prepared returns query as a statement prepared once for the store (database/sql prepares it again on
// each pooled connection that runs it, once), bound to the transaction ctx carries if any. The hot path
// of an evaluation uses it for its fixed-text statements: the server parses and plans their text once
// per connection instead of at every event (measured in README "Scaling: evaluation"). Statements whose
// text varies (IN lists, multi-row VALUES) are not prepared. Errors: the prepare failed.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	v, ok := s.stmts.Load(query)
	if !ok {
		stmt, err := s.db.PrepareContext(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("prepare statement: %w", err)
		}
		// LoadOrStore answers the statement kept: ours, or the one another caller prepared first.
		if v, ok = s.stmts.LoadOrStore(query, stmt); ok {
			_ = stmt.Close() //nolint:sqlclosecheck // not kept, nothing uses it: closed at once, not at return
		}
	}
	stmt := v.(*sql.Stmt)
	if tx, ok := ctx.Value(txKey{s}).(*sql.Tx); ok {
		return tx.StmtContext(ctx, stmt), nil
	}
	return stmt, nil
}

type txKey struct{ s *Store }

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// q returns the transaction ctx carries for this store, or the database.
func (s *Store) q(ctx context.Context) querier {
	if tx, ok := ctx.Value(txKey{s}).(*sql.Tx); ok {
		return tx
	}
	return s.db
}

func (s *Store) inTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{s}).(*sql.Tx)
	return ok
}

// maxTxAttempts bounds how often a transaction that deadlocked is run in all (the first run included).
const maxTxAttempts = 4

// txBackOff is the pause between runs of a transaction that deadlocked: about 5, 15 and 45 ms, with
// jitter so that the transactions that deadlocked each other do not meet again.
func txBackOff() backoff.BackOff {
	return &backoff.ExponentialBackOff{
		InitialInterval:     5 * time.Millisecond,
		RandomizationFactor: 0.5,
		Multiplier:          3,
		MaxInterval:         100 * time.Millisecond,
	}
}

// InTx runs fn in a transaction (joining the one ctx carries, if any). The transaction commits when fn
// returns nil and rolls back otherwise; fn's error is returned as is. An outermost transaction that
// fails with a deadlock or lock timeout (the dialect's IsRetryable) is run again, up to maxTxAttempts
// times in all, so fn must not have effects outside the database. When ctx ends while it waits to run
// again, InTx returns at once with an error wrapping both ctx's error and the last attempt's.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.inTx(ctx) {
		return fn(ctx)
	}
	var last error
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		last = s.runTx(ctx, fn)
		if last != nil && !s.d.IsRetryable(last) {
			return struct{}{}, backoff.Permanent(last)
		}
		return struct{}{}, last
	},
		backoff.WithBackOff(txBackOff()),
		backoff.WithMaxTries(maxTxAttempts),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(s.onRetry))
	if err != nil && last != nil && !errors.Is(err, last) {
		// Retry stopped because ctx ended between attempts: it answers ctx's cause alone.
		return fmt.Errorf("run transaction again: %w (last attempt: %w)", err, last)
	}
	return err
}

func (s *Store) runTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	tx, err := s.db.BeginTx(ctx, s.d.TxOptions)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
				err = errors.Join(err, fmt.Errorf("roll back: %w", rbErr))
			}
		}
	}()
	if err = fn(context.WithValue(ctx, txKey{s}, tx)); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

func nullFloat(p *float64) sql.NullFloat64 {
	if p == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *p, Valid: true}
}

func floatPtr(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	f := v.Float64
	return &f
}

func int64Ptr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	i := v.Int64
	return &i
}

func nullInt(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}

// rowsAffected returns how many rows a statement changed.
func rowsAffected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}
