package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// errClaimed reports, inside RunOnce, that another request holds the key.
var errClaimed = errors.New("idempotency key already claimed")

// RunOnce runs fn at most once per claim. It claims (claim.Scope, claim.Key) by inserting a row inside
// the transaction that fn's writes join, stores fn's result in that row and commits all together: two
// concurrent requests with one key never both run — the second waits on the first's row and then
// replays its result. fn's error rolls everything back, claim included, and is returned as is.
//
// On a repeat it returns the first result and replayed=true; a repeat whose fingerprint differs gets
// stockalert.ErrIdempotencyKeyReused. owner names the user the record belongs to (deleted with them);
// records expire after the store's idempotency TTL. RunOnce must not be called inside a transaction.
func (s *Store) RunOnce(ctx context.Context, claim stockalert.IdempotencyClaim, owner stockalert.Email,
	fn func(ctx context.Context) ([]byte, error)) (result []byte, replayed bool, err error) {
	if s.inTx(ctx) {
		return nil, false, errors.New("run once: called inside a transaction")
	}
	for attempt := 0; attempt < maxTxAttempts; attempt++ {
		err = s.InTx(ctx, func(ctx context.Context) error {
			if err := s.claim(ctx, claim); err != nil {
				return err
			}
			out, err := fn(ctx)
			if err != nil {
				return err
			}
			if _, err := s.q(ctx).ExecContext(ctx,
				`UPDATE idempotency_keys SET result = ?, user_id = (SELECT id FROM users WHERE email = ?)
				  WHERE scope = ? AND idem_key = ?`, out, owner, claim.Scope, claim.Key); err != nil {
				return fmt.Errorf("store idempotent result: %w", err)
			}
			result = out
			return nil
		})
		if !errors.Is(err, errClaimed) {
			return result, false, err
		}
		// Someone else holds the key and has committed: replay what they stored.
		fp, stored, found, err := s.claimed(ctx, claim)
		if err != nil {
			return nil, false, err
		}
		if !found {
			continue // it expired or its owner was deleted in between: claim it afresh
		}
		if fp != claim.Fingerprint {
			return nil, false, fmt.Errorf("idempotency key %q: %w", claim.Key, stockalert.ErrIdempotencyKeyReused)
		}
		return stored, true, nil
	}
	return nil, false, fmt.Errorf("idempotency key %q: could not claim or replay it", claim.Key)
}

// claim inserts the key's row, or takes over an expired one. It returns errClaimed when a live row
// exists (after waiting for the transaction that wrote it, if it is still open).
func (s *Store) claim(ctx context.Context, c stockalert.IdempotencyClaim) error {
	now := s.now()
	created, expires := ms(now), ms(now.Add(s.idempotencyTTL))
	_, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO idempotency_keys (scope, idem_key, fingerprint, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		c.Scope, c.Key, c.Fingerprint, created, expires)
	if err == nil {
		return nil
	}
	if !s.d.IsDuplicate(err) {
		return fmt.Errorf("claim idempotency key: %w", err)
	}
	// The key is taken (our insert waited for its holder to commit). A live record is the common case:
	// answer it with a plain read, so that concurrent repeats never queue for write locks on the row.
	var expiresAt int64
	err = s.q(ctx).QueryRowContext(ctx, `SELECT expires_at FROM idempotency_keys WHERE scope = ? AND idem_key = ?`,
		c.Scope, c.Key).Scan(&expiresAt)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read claimed idempotency key: %w", err)
	}
	if err == nil && expiresAt > created {
		return errClaimed
	}
	res, err := s.q(ctx).ExecContext(ctx,
		`UPDATE idempotency_keys SET fingerprint = ?, result = NULL, user_id = NULL, created_at = ?, expires_at = ?
		  WHERE scope = ? AND idem_key = ? AND expires_at <= ?`,
		c.Fingerprint, created, expires, c.Scope, c.Key, created)
	if err != nil {
		return fmt.Errorf("reclaim expired idempotency key: %w", err)
	}
	if n, err := rowsAffected(res); err != nil || n == 0 {
		return errors.Join(errClaimed, err)
	}
	return nil
}

// claimed reads a committed, unexpired claim.
func (s *Store) claimed(ctx context.Context, c stockalert.IdempotencyClaim) (fingerprint string, result []byte, found bool, err error) {
	err = s.db.QueryRowContext(ctx,
		`SELECT fingerprint, result FROM idempotency_keys WHERE scope = ? AND idem_key = ? AND expires_at > ?`,
		c.Scope, c.Key, ms(s.now())).Scan(&fingerprint, &result)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("read idempotency record: %w", err)
	}
	return fingerprint, result, true, nil
}

// PurgeIdempotencyKeys deletes expired idempotency records.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context) error {
	if _, err := s.q(ctx).ExecContext(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= ?`, ms(s.now())); err != nil {
		return fmt.Errorf("purge idempotency keys: %w", err)
	}
	return nil
}
