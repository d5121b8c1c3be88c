package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// UserByChat returns the user linked to Telegram chat chatID, or stockalert.ErrNotFound.
func (s *Store) UserByChat(ctx context.Context, chatID int64) (stockalert.User, error) {
	u, err := scanUser(s.q(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE telegram_chat_id = ?`, chatID))
	if err != nil {
		return stockalert.User{}, notFound(err, fmt.Sprintf("user of chat %d", chatID))
	}
	return u, nil
}

// SetTimeZone sets the IANA zone of the user linked to chatID (users.time_zone), or returns
// stockalert.ErrNotFound. The name is stored as given: the caller checks it.
func (s *Store) SetTimeZone(ctx context.Context, chatID int64, zone string) error {
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE users SET time_zone = ? WHERE telegram_chat_id = ?`, zone, chatID)
	if err != nil {
		return fmt.Errorf("set time zone: %w", err)
	}
	return expectOne(res, fmt.Sprintf("user of chat %d", chatID))
}

// SetQuietHours sets the quiet hours of the user linked to chatID (users.quiet_start and quiet_end,
// minutes after midnight in the user's zone; both NULL when q is not Set), or returns
// stockalert.ErrNotFound.
func (s *Store) SetQuietHours(ctx context.Context, chatID int64, q stockalert.QuietHours) error {
	var start, end sql.NullInt64
	if q.Set {
		start, end = sql.NullInt64{Int64: int64(q.Start), Valid: true}, sql.NullInt64{Int64: int64(q.End), Valid: true}
	}
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE users SET quiet_start = ?, quiet_end = ? WHERE telegram_chat_id = ?`, start, end, chatID)
	if err != nil {
		return fmt.Errorf("set quiet hours: %w", err)
	}
	return expectOne(res, fmt.Sprintf("user of chat %d", chatID))
}
