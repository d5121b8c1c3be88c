package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// The web dashboard's one-time sign-in links (web_logins) and sessions (web_sessions), both kept as
// SHA-256 hashes of the secrets the user holds.

// AddWebLogin stores a one-time sign-in code (its hash) for the user, valid until expires.
func (s *Store) AddWebLogin(ctx context.Context, codeHash string, userID int64, expires time.Time) error {
	_, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO web_logins (code_hash, user_id, expires_at) VALUES (?, ?, ?)`, codeHash, userID, ms(expires))
	if err != nil {
		return fmt.Errorf("insert web login: %w", err)
	}
	return nil
}

// TakeWebLogin removes the sign-in code with this hash and returns its user's id when it was still
// valid at now; stockalert.ErrNotFound for an unknown, used or expired code. Of two concurrent calls with the same code, one at most gets the user.
func (s *Store) TakeWebLogin(ctx context.Context, codeHash string, now time.Time) (int64, error) {
	var userID, expires int64
	err := s.InTx(ctx, func(ctx context.Context) error {
		err := s.q(ctx).QueryRowContext(ctx, `SELECT user_id, expires_at FROM web_logins WHERE code_hash = ?`+s.d.ForUpdate, codeHash).
			Scan(&userID, &expires)
		if err != nil {
			return notFound(err, "sign-in link")
		}
		res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM web_logins WHERE code_hash = ?`, codeHash)
		if err != nil {
			return fmt.Errorf("delete web login: %w", err)
		}
		return expectOne(res, "sign-in link")
	})
	if err != nil {
		return 0, err
	}
	if expires <= ms(now) {
		return 0, stockalert.NotFound("no sign-in link")
	}
	return userID, nil
}

// AddWebSession stores a session (the hash of its id) of the user, created at created and valid until
// expires.
func (s *Store) AddWebSession(ctx context.Context, idHash string, userID int64, created, expires time.Time) error {
	_, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO web_sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		idHash, userID, ms(created), ms(expires))
	if err != nil {
		return fmt.Errorf("insert web session: %w", err)
	}
	return nil
}

// WebSessionUser returns the e-mail of the user whose session has this id hash and is still valid at
// now, or stockalert.ErrNotFound.
func (s *Store) WebSessionUser(ctx context.Context, idHash string, now time.Time) (stockalert.Email, error) {
	var email stockalert.Email
	err := s.q(ctx).QueryRowContext(ctx,
		`SELECT u.email FROM web_sessions w JOIN users u ON u.id = w.user_id WHERE w.id_hash = ? AND w.expires_at > ?`,
		idHash, ms(now)).Scan(&email)
	if err != nil {
		return "", notFound(err, "session")
	}
	return email, nil
}

// DeleteWebSession removes the session with this id hash, and every session that expired before now;
// a session already gone is no error.
func (s *Store) DeleteWebSession(ctx context.Context, idHash string, now time.Time) error {
	if _, err := s.q(ctx).ExecContext(ctx, `DELETE FROM web_sessions WHERE id_hash = ? OR expires_at <= ?`, idHash, ms(now)); err != nil {
		return fmt.Errorf("delete web session: %w", err)
	}
	return nil
}
