package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

const userColumns = "id, email, telegram_chat_id, notify_interval_s, paused, created_at, time_zone, quiet_start, quiet_end"

func scanUser(row interface{ Scan(...any) error }) (stockalert.User, error) {
	var (
		u        stockalert.User
		chat     sql.NullInt64
		interval int64
		created  int64
		qs, qe   sql.NullInt64
	)
	if err := row.Scan(&u.ID, &u.Email, &chat, &interval, &u.Paused, &created, &u.TimeZone, &qs, &qe); err != nil {
		return stockalert.User{}, err
	}
	if qs.Valid && qe.Valid {
		u.Quiet = stockalert.QuietHours{Set: true, Start: int(qs.Int64), End: int(qe.Int64)}
	}
	u.TelegramChatID = int64Ptr(chat)
	u.NotifyInterval = time.Duration(interval) * time.Second
	u.CreatedAt = time.UnixMilli(created).UTC()
	return u, nil
}

// notFound turns sql.ErrNoRows into a *stockalert.NotFoundError "no <what>" (a text a caller may
// read); other errors are returned as they are.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return stockalert.NotFound("no %s", what)
	}
	return err
}

// CreateUser inserts a user. It returns a *stockalert.ConflictError (an ErrConflict) naming "email" or
// "telegram_chat_id" when either already belongs to a user.
func (s *Store) CreateUser(ctx context.Context, u command.NewUser) (int64, error) {
	res, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO users (email, token_hash, link_code_hash, telegram_chat_id, notify_interval_s, paused, created_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.Email, u.TokenHash, u.LinkCodeHash, nullInt(u.TelegramChatID), u.NotifyInterval, false, ms(s.now()))
	if err != nil {
		if s.d.IsDuplicate(err) {
			return 0, s.userConflict(ctx, u)
		}
		return 0, fmt.Errorf("insert user: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("user id: %w", err)
	}
	return id, nil
}

// userConflict tells which unique column a failed insert collided with.
func (s *Store) userConflict(ctx context.Context, u command.NewUser) error {
	var n int
	err := s.q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email = ?`, u.Email).Scan(&n)
	if err == nil && n == 0 && u.TelegramChatID != nil {
		return &stockalert.ConflictError{Field: "telegram_chat_id", Reason: "the Telegram chat is linked to another user"}
	}
	return &stockalert.ConflictError{Field: "email", Reason: "the e-mail address is already registered"}
}

// UserByEmail returns the user, or stockalert.ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email stockalert.Email) (stockalert.User, error) {
	u, err := scanUser(s.q(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
	if err != nil {
		return stockalert.User{}, notFound(err, "user "+string(email))
	}
	return u, nil
}

// LockUser returns the user, locking the row until the transaction ends, or stockalert.ErrNotFound.
func (s *Store) LockUser(ctx context.Context, email stockalert.Email) (stockalert.User, error) {
	u, err := scanUser(s.q(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`+s.d.ForUpdate, email))
	if err != nil {
		return stockalert.User{}, notFound(err, "user "+string(email))
	}
	return u, nil
}

// LockChatUser reads the user linked to the Telegram chat chatID and, in a transaction, locks their
// row until it ends; it returns stockalert.ErrNotFound when no user is linked to the chat.
func (s *Store) LockChatUser(ctx context.Context, chatID int64) (stockalert.User, error) {
	u, err := scanUser(s.q(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE telegram_chat_id = ?`+s.d.ForUpdate, chatID))
	if err != nil {
		return stockalert.User{}, notFound(err, fmt.Sprintf("user of chat %d", chatID))
	}
	return u, nil
}

// DeleteUser deletes the user; the foreign keys cascade to subscriptions, notifications and idempotency
// records. It returns stockalert.ErrNotFound for an unknown e-mail.
func (s *Store) DeleteUser(ctx context.Context, email stockalert.Email) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM users WHERE email = ?`, email)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return expectOne(res, "user "+string(email))
}

func expectOne(res sql.Result, what string) error {
	n, err := rowsAffected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return stockalert.NotFound("no %s", what)
	}
	return nil
}

// Credentials returns the user's id and token hash, or stockalert.ErrNotFound.
func (s *Store) Credentials(ctx context.Context, email stockalert.Email) (int64, string, error) {
	var (
		id   int64
		hash string
	)
	err := s.q(ctx).QueryRowContext(ctx, `SELECT id, token_hash FROM users WHERE email = ?`, email).Scan(&id, &hash)
	if err != nil {
		return 0, "", notFound(err, "user "+string(email))
	}
	return id, hash, nil
}

// SetLinkCode stores a new link code hash for the user, or returns stockalert.ErrNotFound.
func (s *Store) SetLinkCode(ctx context.Context, email stockalert.Email, codeHash string) error {
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE users SET link_code_hash = ? WHERE email = ?`, codeHash, email)
	if err != nil {
		return fmt.Errorf("set link code: %w", err)
	}
	return expectOne(res, "user "+string(email))
}

// LinkTelegram links chatID to the user holding the link code hash and clears the code, in one
// transaction. When the chat is linked to another user it moves to this one if relink is set, and
// otherwise changes nothing and returns a *stockalert.ConflictError naming "telegram_chat_id". It
// returns stockalert.ErrNotFound when no user holds the code.
func (s *Store) LinkTelegram(ctx context.Context, codeHash string, chatID int64, relink bool) (command.Linked, error) {
	var out command.Linked
	err := s.InTx(ctx, func(ctx context.Context) error {
		var (
			id   int64
			prev sql.NullInt64
		)
		err := s.q(ctx).QueryRowContext(ctx, `SELECT id, email, telegram_chat_id FROM users WHERE link_code_hash = ?`+s.d.ForUpdate,
			codeHash).Scan(&id, &out.Email, &prev)
		if err != nil {
			return notFound(err, "link code")
		}
		if prev.Valid && prev.Int64 != chatID {
			out.PreviousChat = int64Ptr(prev)
		}
		var other stockalert.Email
		err = s.q(ctx).QueryRowContext(ctx, `SELECT email FROM users WHERE telegram_chat_id = ? AND id <> ?`+s.d.ForUpdate,
			chatID, id).Scan(&other)
		switch {
		case err == nil && !relink:
			return &stockalert.ConflictError{Field: "telegram_chat_id", Reason: "the Telegram chat is linked to another user"}
		case err == nil:
			out.Unlinked = other
			if _, err := s.q(ctx).ExecContext(ctx,
				`UPDATE users SET telegram_chat_id = NULL WHERE telegram_chat_id = ? AND id <> ?`, chatID, id); err != nil {
				return fmt.Errorf("unlink chat from previous user: %w", err)
			}
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("find the user of chat %d: %w", chatID, err)
		}
		if _, err := s.q(ctx).ExecContext(ctx,
			`UPDATE users SET telegram_chat_id = ?, link_code_hash = NULL WHERE id = ?`, chatID, id); err != nil {
			return fmt.Errorf("link chat: %w", err)
		}
		return nil
	})
	if err != nil {
		return command.Linked{}, err
	}
	return out, nil
}

// LinkCodeHolder returns the user holding the link code hash, or stockalert.ErrNotFound.
func (s *Store) LinkCodeHolder(ctx context.Context, codeHash string) (stockalert.User, error) {
	u, err := scanUser(s.q(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE link_code_hash = ?`, codeHash))
	if err != nil {
		return stockalert.User{}, notFound(err, "link code")
	}
	return u, nil
}

// RotateChatToken sets the API token hash of the user linked to chatID to tokenHash, in one transaction
// with the removal of the user's idempotency records (a registration's record keeps its answer, the
// old token included), so the old token stops working at once. It returns the user's e-mail, or
// stockalert.ErrNotFound when no user is linked to the chat.
func (s *Store) RotateChatToken(ctx context.Context, chatID int64, tokenHash string) (stockalert.Email, error) {
	var email stockalert.Email
	err := s.InTx(ctx, func(ctx context.Context) error {
		var id int64
		err := s.q(ctx).QueryRowContext(ctx, `SELECT id, email FROM users WHERE telegram_chat_id = ?`+s.d.ForUpdate, chatID).Scan(&id, &email)
		if err != nil {
			return notFound(err, "user linked to this chat")
		}
		if _, err := s.q(ctx).ExecContext(ctx, `UPDATE users SET token_hash = ? WHERE id = ?`, tokenHash, id); err != nil {
			return fmt.Errorf("replace token of %s: %w", email, err)
		}
		if _, err := s.q(ctx).ExecContext(ctx, `DELETE FROM idempotency_keys WHERE user_id = ?`, id); err != nil {
			return fmt.Errorf("forget idempotency records of %s: %w", email, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return email, nil
}

// MoveTelegramChat moves the link of chat from to chat to, in one transaction: the account linked to
// from is linked to to, unless to is linked to an account already, in which case that link stays and
// from is unlinked. Nil, changing nothing, when no account is linked to from.
func (s *Store) MoveTelegramChat(ctx context.Context, from, to int64) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		var id int64
		err := s.q(ctx).QueryRowContext(ctx, `SELECT id FROM users WHERE telegram_chat_id = ?`+s.d.ForUpdate, from).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // moved before, or never linked
		}
		if err != nil {
			return fmt.Errorf("find the user of chat %d: %w", from, err)
		}
		var other int64
		err = s.q(ctx).QueryRowContext(ctx, `SELECT id FROM users WHERE telegram_chat_id = ?`+s.d.ForUpdate, to).Scan(&other)
		switch {
		case err == nil:
			if _, err := s.q(ctx).ExecContext(ctx, `UPDATE users SET telegram_chat_id = NULL WHERE id = ?`, id); err != nil {
				return fmt.Errorf("unlink dead chat %d: %w", from, err)
			}
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("find the user of chat %d: %w", to, err)
		}
		if _, err := s.q(ctx).ExecContext(ctx, `UPDATE users SET telegram_chat_id = ? WHERE id = ?`, to, id); err != nil {
			return fmt.Errorf("move chat %d to %d: %w", from, to, err)
		}
		return nil
	})
}

// SetNotifyInterval sets the interval of the user linked to chatID, or returns stockalert.ErrNotFound.
func (s *Store) SetNotifyInterval(ctx context.Context, chatID int64, seconds int64) error {
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE users SET notify_interval_s = ? WHERE telegram_chat_id = ?`, seconds, chatID)
	if err != nil {
		return fmt.Errorf("set interval: %w", err)
	}
	return expectOne(res, fmt.Sprintf("user of chat %d", chatID))
}

// SetPaused pauses or resumes the user linked to chatID, or returns stockalert.ErrNotFound.
func (s *Store) SetPaused(ctx context.Context, chatID int64, paused bool) error {
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE users SET paused = ? WHERE telegram_chat_id = ?`, paused, chatID)
	if err != nil {
		return fmt.Errorf("set paused: %w", err)
	}
	return expectOne(res, fmt.Sprintf("user of chat %d", chatID))
}

// UserProfile returns the user's profile, or stockalert.ErrNotFound.
func (s *Store) UserProfile(ctx context.Context, email stockalert.Email) (query.Profile, error) {
	return s.profile(ctx, `email = ?`, email)
}

// ChatProfile returns the profile of the user linked to chatID, or stockalert.ErrNotFound.
func (s *Store) ChatProfile(ctx context.Context, chatID int64) (query.Profile, error) {
	return s.profile(ctx, `telegram_chat_id = ?`, chatID)
}

func (s *Store) profile(ctx context.Context, where string, arg any) (query.Profile, error) {
	u, err := scanUser(s.q(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, arg))
	if err != nil {
		return query.Profile{}, notFound(err, fmt.Sprintf("user %v", arg))
	}
	subs, err := s.Subscriptions(ctx, u.ID)
	if err != nil {
		return query.Profile{}, err
	}
	rules, err := s.CountRules(ctx, u.ID)
	if err != nil {
		return query.Profile{}, err
	}
	p := query.Profile{
		OtherRules:     rules - len(subs),
		UserID:         u.ID,
		Email:          u.Email,
		TelegramChatID: u.TelegramChatID,
		NotifyInterval: u.NotifyInterval,
		Paused:         u.Paused,
		CreatedAt:      u.CreatedAt,
		TimeZone:       u.TimeZone,
		Quiet:          u.Quiet,
		Subscriptions:  make([]query.Subscription, len(subs)),
	}
	for i, sub := range subs {
		p.Subscriptions[i] = query.Subscription{
			Ticker: sub.Ticker, Thresholds: sub.Thresholds, State: sub.State, LastAlertedAt: sub.LastAlertedAt,
		}
	}
	return p, nil
}
