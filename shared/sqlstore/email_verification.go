package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// The e-mail channel's codes (email_verifications) and its row in user_channels (channel 'email'):
// the confirmed address (target, verified_at), on/off (enabled) and the unsubscribe secret (secret).

// CountEmailVerifications counts the codes created for the user's address email at or after since
// (used codes are deleted, so they no longer count).
func (s *Store) CountEmailVerifications(ctx context.Context, userID int64, email stockalert.Email, since time.Time) (int, error) {
	var n int
	err := s.q(ctx).QueryRowContext(ctx,
		`SELECT COUNT(*) FROM email_verifications WHERE user_id = ? AND email = ? AND created_at >= ?`,
		userID, email, ms(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count e-mail verifications: %w", err)
	}
	return n, nil
}

// AddEmailVerification stores a code (its hash).
func (s *Store) AddEmailVerification(ctx context.Context, v stockalert.EmailVerification) error {
	_, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO email_verifications (code_hash, user_id, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		v.CodeHash, v.UserID, v.Email, ms(v.CreatedAt), ms(v.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert e-mail verification: %w", err)
	}
	return nil
}

// EmailVerification returns the stored code with this hash, expired or not, or stockalert.ErrNotFound.
func (s *Store) EmailVerification(ctx context.Context, codeHash string) (stockalert.EmailVerification, error) {
	v := stockalert.EmailVerification{CodeHash: codeHash}
	var created, expires int64
	err := s.q(ctx).QueryRowContext(ctx,
		`SELECT user_id, email, created_at, expires_at FROM email_verifications WHERE code_hash = ?`, codeHash).
		Scan(&v.UserID, &v.Email, &created, &expires)
	if err != nil {
		return stockalert.EmailVerification{}, notFound(err, "verification code")
	}
	v.CreatedAt, v.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	return v, nil
}

// DeleteEmailVerification removes a code; deleted is false when there was none with this hash.
func (s *Store) DeleteEmailVerification(ctx context.Context, codeHash string) (bool, error) {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM email_verifications WHERE code_hash = ?`, codeHash)
	if err != nil {
		return false, fmt.Errorf("delete e-mail verification: %w", err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// ConfirmEmail records that the user confirmed email at at: the e-mail channel's row becomes enabled,
// with the address as its target, verified_at = at, the new unsubscribe secret, no failures and no
// system reason.
func (s *Store) ConfirmEmail(ctx context.Context, userID int64, email stockalert.Email, unsubscribeSecret string, at time.Time) error {
	_, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO user_channels (user_id, channel, enabled, target, verified_at, secret, failures, disabled_reason, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, 0, NULL, ?)`+
			s.d.onConflictUpdate("user_id, channel", []string{"enabled", "target", "verified_at", "secret", "failures", "disabled_reason", "updated_at"}),
		userID, string(stockalert.ChannelEmail), true, email, ms(at), unsubscribeSecret, ms(at))
	if err != nil {
		return fmt.Errorf("confirm e-mail: %w", err)
	}
	return nil
}

// EmailUnsubscribeSecret returns the user's e-mail unsubscribe secret ("" when the address was never
// confirmed), or stockalert.ErrNotFound when the user has no e-mail channel row.
func (s *Store) EmailUnsubscribeSecret(ctx context.Context, userID int64) (string, error) {
	var secret *string
	err := s.q(ctx).QueryRowContext(ctx,
		`SELECT secret FROM user_channels WHERE user_id = ? AND channel = ?`, userID, string(stockalert.ChannelEmail)).Scan(&secret)
	if err != nil {
		return "", notFound(err, "e-mail channel")
	}
	if secret == nil {
		return "", nil
	}
	return *secret, nil
}

// DisableEmail turns the user's e-mail channel off (enabled = false; the confirmation stays). A user
// without an e-mail channel row has nothing to turn off: no error.
func (s *Store) DisableEmail(ctx context.Context, userID int64, at time.Time) error {
	_, err := s.q(ctx).ExecContext(ctx,
		`UPDATE user_channels SET enabled = ?, updated_at = ? WHERE user_id = ? AND channel = ?`,
		false, ms(at), userID, string(stockalert.ChannelEmail))
	if err != nil {
		return fmt.Errorf("disable e-mail: %w", err)
	}
	return nil
}

// EmailChannel returns the user's e-mail channel settings (Enabled false and Verified false when the
// user never turned it on).
func (s *Store) EmailChannel(ctx context.Context, userID int64) (stockalert.ChannelSettings, error) {
	c := stockalert.ChannelSettings{Channel: stockalert.ChannelEmail}
	var verified *int64
	var secret, reason *string
	var updated int64
	err := s.q(ctx).QueryRowContext(ctx,
		`SELECT enabled, target, verified_at, secret, failures, disabled_reason, updated_at FROM user_channels
		 WHERE user_id = ? AND channel = ?`, userID, string(stockalert.ChannelEmail)).
		Scan(&c.Enabled, &c.Target, &verified, &secret, &c.Failures, &reason, &updated)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return c, nil
		}
		return c, fmt.Errorf("read e-mail channel: %w", err)
	}
	c.Verified = verified != nil
	if secret != nil {
		c.Secret = *secret
	}
	if reason != nil {
		c.DisabledReason = *reason
	}
	c.UpdatedAt = time.UnixMilli(updated).UTC()
	return c, nil
}
