package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// A user's channel settings. Telegram's live on users (telegram_chat_id: the target; telegram_enabled);
// e-mail's and the webhook's in user_channels, one row per (user, channel) written on first change, a
// missing row meaning the defaults (disabled, no target, not verified).

// ChannelSettings returns user userID's settings of every channel, in stockalert.Channels order:
// Telegram's Target is the linked chat's id in decimal ("" when none is linked), Verified always true;
// e-mail's Target is the account's address, Verified true once MarkChannelVerified confirmed that
// address; the webhook's Target is its URL ("" before one is registered) and Secret its signing secret.
// It returns stockalert.ErrNotFound when there is no such user.
func (s *Store) ChannelSettings(ctx context.Context, userID int64) ([]stockalert.ChannelSettings, error) {
	var (
		email   string
		chat    sql.NullInt64
		enabled bool
	)
	err := s.q(ctx).QueryRowContext(ctx, `SELECT email, telegram_chat_id, telegram_enabled FROM users WHERE id = ?`, userID).
		Scan(&email, &chat, &enabled)
	if err != nil {
		return nil, fmt.Errorf("channel settings of user %d: %w", userID, notFound(err, "user"))
	}
	byChannel := map[stockalert.Channel]stockalert.ChannelSettings{
		stockalert.ChannelTelegram: {Channel: stockalert.ChannelTelegram, Enabled: enabled, Verified: true},
		stockalert.ChannelEmail:    {Channel: stockalert.ChannelEmail},
		stockalert.ChannelWebhook:  {Channel: stockalert.ChannelWebhook, Verified: true},
	}
	if chat.Valid {
		tg := byChannel[stockalert.ChannelTelegram]
		tg.Target = strconv.FormatInt(chat.Int64, 10)
		byChannel[stockalert.ChannelTelegram] = tg
	}
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT channel, enabled, target, verified_at, COALESCE(secret, ''), failures, COALESCE(disabled_reason, ''), updated_at
		   FROM user_channels WHERE user_id = ?`, userID)
	if err != nil {
		return nil, fmt.Errorf("channel settings of user %d: %w", userID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c        stockalert.ChannelSettings
			verified sql.NullInt64
			updated  int64
		)
		if err := rows.Scan(&c.Channel, &c.Enabled, &c.Target, &verified, &c.Secret, &c.Failures, &c.DisabledReason, &updated); err != nil {
			return nil, fmt.Errorf("scan channel settings: %w", err)
		}
		c.UpdatedAt = fromMS(sql.NullInt64{Int64: updated, Valid: true})
		switch c.Channel {
		case stockalert.ChannelEmail:
			// Confirmed is the address the verification was for; the account's address is the target.
			c.Verified = verified.Valid && (c.Target == "" || c.Target == email)
			c.Target = email
		case stockalert.ChannelWebhook:
			c.Verified = true
		default:
			continue
		}
		byChannel[c.Channel] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("channel settings of user %d: %w", userID, err)
	}
	if e := byChannel[stockalert.ChannelEmail]; e.Target == "" {
		e.Target = email
		byChannel[stockalert.ChannelEmail] = e
	}
	out := make([]stockalert.ChannelSettings, 0, len(stockalert.Channels))
	for _, c := range stockalert.Channels {
		out = append(out, byChannel[c])
	}
	return out, nil
}

// SetChannelEnabled turns channel on or off for user userID at the user's request. Turning a channel on
// clears the reason the system turned it off (DisableChannel) and its failure count. Telegram's setting
// is users.telegram_enabled. It returns stockalert.ErrNotFound when there is no such user.
func (s *Store) SetChannelEnabled(ctx context.Context, userID int64, channel stockalert.Channel, enabled bool) error {
	if channel == stockalert.ChannelTelegram {
		return s.setTelegramEnabled(ctx, userID, enabled)
	}
	if err := s.ensureChannelRow(ctx, userID, channel); err != nil {
		return fmt.Errorf("turn %s %s: %w", channel, onOff(enabled), err)
	}
	set := `enabled = ?, updated_at = ?`
	if enabled {
		set += `, failures = 0, disabled_reason = NULL`
	}
	if _, err := s.q(ctx).ExecContext(ctx, `UPDATE user_channels SET `+set+` WHERE user_id = ? AND channel = ?`,
		enabled, ms(s.now()), userID, channel); err != nil {
		return fmt.Errorf("turn %s %s: %w", channel, onOff(enabled), err)
	}
	return nil
}

// SetChannelTarget saves where channel delivers for user userID: the webhook's URL and its signing
// secret (secret "" keeps none); for e-mail the address being confirmed (target; secret ""). A changed
// target clears the confirmation (MarkChannelVerified), the failure count and the reason the system
// turned the channel off; whether the channel is enabled is left as it is. Telegram's target is the
// linked chat (LinkTelegram), so channel telegram is a *stockalert.ValidationError naming "channel".
// It returns stockalert.ErrNotFound when there is no such user.
func (s *Store) SetChannelTarget(ctx context.Context, userID int64, channel stockalert.Channel, target, secret string) error {
	if channel == stockalert.ChannelTelegram {
		return stockalert.Invalid("channel", "telegram's target is the linked chat")
	}
	if err := s.ensureChannelRow(ctx, userID, channel); err != nil {
		return fmt.Errorf("set the %s target: %w", channel, err)
	}
	var sec any
	if secret != "" {
		sec = secret
	}
	_, err := s.q(ctx).ExecContext(ctx,
		`UPDATE user_channels
		    SET verified_at = CASE WHEN target = ? THEN verified_at ELSE NULL END,
		        target = ?, secret = ?, failures = 0, disabled_reason = NULL, updated_at = ?
		  WHERE user_id = ? AND channel = ?`,
		target, target, sec, ms(s.now()), userID, channel)
	if err != nil {
		return fmt.Errorf("set the %s target: %w", channel, err)
	}
	return nil
}

// MarkChannelVerified records that user userID confirmed channel's target at at (e-mail: the address
// the verification was sent to, saved by SetChannelTarget; "" there meaning the account's address).
// It returns stockalert.ErrNotFound when there is no such user.
func (s *Store) MarkChannelVerified(ctx context.Context, userID int64, channel stockalert.Channel, at time.Time) error {
	if err := s.ensureChannelRow(ctx, userID, channel); err != nil {
		return fmt.Errorf("mark %s verified: %w", channel, err)
	}
	if _, err := s.q(ctx).ExecContext(ctx,
		`UPDATE user_channels SET verified_at = ?, updated_at = ? WHERE user_id = ? AND channel = ?`,
		ms(at), ms(s.now()), userID, channel); err != nil {
		return fmt.Errorf("mark %s verified: %w", channel, err)
	}
	return nil
}

// RecordChannelFailure counts one more consecutive failed delivery over channel for user userID and
// returns the count (the caller decides when to DisableChannel). It returns stockalert.ErrNotFound
// when there is no such user.
func (s *Store) RecordChannelFailure(ctx context.Context, userID int64, channel stockalert.Channel) (int, error) {
	var failures int
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.ensureChannelRow(ctx, userID, channel); err != nil {
			return err
		}
		if _, err := s.q(ctx).ExecContext(ctx,
			`UPDATE user_channels SET failures = failures + 1, updated_at = ? WHERE user_id = ? AND channel = ?`,
			ms(s.now()), userID, channel); err != nil {
			return err
		}
		return s.q(ctx).QueryRowContext(ctx, `SELECT failures FROM user_channels WHERE user_id = ? AND channel = ?`,
			userID, channel).Scan(&failures)
	})
	if err != nil {
		return 0, fmt.Errorf("count a %s failure: %w", channel, err)
	}
	return failures, nil
}

// ResetChannelFailures sets the consecutive failures of channel for user userID back to 0 (after a
// delivery succeeded). A user without a row for channel is left as is.
func (s *Store) ResetChannelFailures(ctx context.Context, userID int64, channel stockalert.Channel) error {
	if _, err := s.q(ctx).ExecContext(ctx,
		`UPDATE user_channels SET failures = 0, updated_at = ? WHERE user_id = ? AND channel = ? AND failures <> 0`,
		ms(s.now()), userID, channel); err != nil {
		return fmt.Errorf("reset %s failures: %w", channel, err)
	}
	return nil
}

// DisableChannel turns channel off for user userID on the system's behalf, keeping reason (plain words
// for the user, e.g. "the webhook failed 10 times in a row") until the user turns it on again. For
// Telegram, which keeps no reason, it is SetChannelEnabled(false). It returns stockalert.ErrNotFound
// when there is no such user.
func (s *Store) DisableChannel(ctx context.Context, userID int64, channel stockalert.Channel, reason string) error {
	if channel == stockalert.ChannelTelegram {
		return s.setTelegramEnabled(ctx, userID, false)
	}
	if err := s.ensureChannelRow(ctx, userID, channel); err != nil {
		return fmt.Errorf("disable %s: %w", channel, err)
	}
	if _, err := s.q(ctx).ExecContext(ctx,
		`UPDATE user_channels SET enabled = ?, disabled_reason = ?, updated_at = ? WHERE user_id = ? AND channel = ?`,
		false, reason, ms(s.now()), userID, channel); err != nil {
		return fmt.Errorf("disable %s: %w", channel, err)
	}
	return nil
}

func (s *Store) setTelegramEnabled(ctx context.Context, userID int64, enabled bool) error {
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE users SET telegram_enabled = ? WHERE id = ?`, enabled, userID)
	if err != nil {
		return fmt.Errorf("turn telegram %s: %w", onOff(enabled), err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		// MySQL counts changed rows: tell "same value" from "no user".
		var one int
		if err := s.q(ctx).QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one); err != nil {
			return fmt.Errorf("turn telegram %s: %w", onOff(enabled), notFound(err, "user"))
		}
	}
	return nil
}

// ensureChannelRow inserts user userID's row for channel with the defaults when there is none.
func (s *Store) ensureChannelRow(ctx context.Context, userID int64, channel stockalert.Channel) error {
	if _, err := stockalert.ParseChannel("channel", string(channel)); err != nil {
		return err
	}
	var one int
	if err := s.q(ctx).QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one); err != nil {
		return notFound(err, "user")
	}
	_, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO user_channels (user_id, channel, updated_at) VALUES (?, ?, ?)`+s.d.onConflictDoNothing("channel"),
		userID, channel, ms(s.now()))
	if err != nil && !s.d.IsDuplicate(err) {
		return fmt.Errorf("insert the %s settings: %w", channel, err)
	}
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
