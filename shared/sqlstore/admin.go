package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// The operators' reads and writes (the admin command, cmd/stockalert-admin): they run outside the
// functions' use cases and are not on any hot path.

// UserFilter selects users for ListUsers. Empty fields select everything; set fields must all match.
type UserFilter struct {
	// EmailContains matches e-mail addresses containing it (case-insensitively for ASCII).
	EmailContains string
	// Ticker matches users who watch that ticker.
	Ticker stockalert.Ticker
	// ChatID matches the user linked to that Telegram chat id.
	ChatID *int64
}

// UserSummary is one user as ListUsers answers it.
type UserSummary struct {
	ID             int64
	Email          stockalert.Email
	TelegramChatID *int64
	Paused         bool
	CreatedAt      time.Time
	Tickers        []stockalert.Ticker // sorted
}

// ListUsers returns up to limit users that f selects, ordered by e-mail, each with the tickers it
// watches.
func (s *Store) ListUsers(ctx context.Context, f UserFilter, limit int) ([]UserSummary, error) {
	var (
		where []string
		args  []any
	)
	if f.EmailContains != "" {
		where = append(where, `LOWER(u.email) LIKE ? ESCAPE '!'`)
		args = append(args, "%"+likeEscape(strings.ToLower(f.EmailContains))+"%")
	}
	if f.Ticker != "" {
		where = append(where, `EXISTS (SELECT 1 FROM alert_rules t WHERE t.user_id = u.id AND t.ticker = ?)`)
		args = append(args, f.Ticker)
	}
	if f.ChatID != nil {
		where = append(where, `u.telegram_chat_id = ?`)
		args = append(args, *f.ChatID)
	}
	q := `SELECT u.id, u.email, u.telegram_chat_id, u.paused, u.created_at FROM users u`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY u.email LIMIT ?`
	args = append(args, limit)
	rows, err := s.q(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []UserSummary
	for rows.Next() {
		var (
			u       UserSummary
			chat    sql.NullInt64
			created int64
		)
		if err := rows.Scan(&u.ID, &u.Email, &chat, &u.Paused, &created); err != nil {
			return nil, fmt.Errorf("scan user: %w", err)
		}
		u.TelegramChatID = int64Ptr(chat)
		u.CreatedAt = time.UnixMilli(created).UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	for i := range out {
		subs, err := s.Subscriptions(ctx, out[i].ID)
		if err != nil {
			return nil, err
		}
		for _, sub := range subs {
			out[i].Tickers = append(out[i].Tickers, sub.Ticker)
		}
		sort.Slice(out[i].Tickers, func(a, b int) bool { return out[i].Tickers[a] < out[i].Tickers[b] })
	}
	return out, nil
}

// likeEscape escapes LIKE's wildcards with '!' (the ESCAPE character ListUsers names: a backslash
// means different things in MySQL's and SQLite's string literals).
func likeEscape(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// NotificationEntry is one entry of the notification log with everything it records.
type NotificationEntry struct {
	EventID   string
	Ticker    stockalert.Ticker
	Condition stockalert.Condition
	Price     float64
	Threshold float64
	ChatID    *int64
	State     stockalert.DeliveryState
	Attempts  int
	LastError string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// LastNotifications returns the user's last limit notification-log entries, newest first, or
// stockalert.ErrNotFound for an unknown user.
func (s *Store) LastNotifications(ctx context.Context, email stockalert.Email, limit int) ([]NotificationEntry, error) {
	var id int64
	if err := s.q(ctx).QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`, email).Scan(&id); err != nil {
		return nil, notFound(err, "user "+string(email))
	}
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT event_id, ticker, alert_condition, price, threshold, chat_id, state, attempts, last_error,
		        created_at, updated_at
		   FROM notifications WHERE user_id = ? ORDER BY created_at DESC, event_id DESC LIMIT ?`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("notification log of %s: %w", email, err)
	}
	defer rows.Close()
	var out []NotificationEntry
	for rows.Next() {
		var (
			n                NotificationEntry
			chat             sql.NullInt64
			lastErr          sql.NullString
			created, updated int64
		)
		if err := rows.Scan(&n.EventID, &n.Ticker, &n.Condition, &n.Price, &n.Threshold, &chat, &n.State,
			&n.Attempts, &lastErr, &created, &updated); err != nil {
			return nil, fmt.Errorf("scan notification: %w", err)
		}
		n.ChatID = int64Ptr(chat)
		n.LastError = lastErr.String
		n.CreatedAt = time.UnixMilli(created).UTC()
		n.UpdatedAt = time.UnixMilli(updated).UTC()
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notification log of %s: %w", email, err)
	}
	return out, nil
}

// ReplaceToken sets the user's API token hash to tokenHash, in one transaction with the removal of the
// user's idempotency records (a registration's record keeps its answer, the old token included), so
// the old token stops working at once. It returns stockalert.ErrNotFound for an unknown user.
func (s *Store) ReplaceToken(ctx context.Context, email stockalert.Email, tokenHash string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		var id int64
		err := s.q(ctx).QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`+s.d.ForUpdate, email).Scan(&id)
		if err != nil {
			return notFound(err, "user "+string(email))
		}
		if _, err := s.q(ctx).ExecContext(ctx, `UPDATE users SET token_hash = ? WHERE id = ?`, tokenHash, id); err != nil {
			return fmt.Errorf("replace token of %s: %w", email, err)
		}
		if _, err := s.q(ctx).ExecContext(ctx, `DELETE FROM idempotency_keys WHERE user_id = ?`, id); err != nil {
			return fmt.Errorf("forget idempotency records of %s: %w", email, err)
		}
		return nil
	})
}

// TickerHealth is what the store knows of one ticker's collection.
type TickerHealth struct {
	Ticker      stockalert.Ticker
	Subscribers int       // users watching it
	QuotedAt    time.Time // the latest quote's time (Yahoo's meta.regularMarketTime); zero when never priced
	RecordedAt  time.Time // when the latest quote was recorded; zero when never priced
}

// TopicBacklog counts the outbox rows of one topic.
type TopicBacklog struct {
	Topic  string
	Rows   int
	Oldest time.Time // created_at of the oldest row
}

// Health is what the store knows of collection and delivery.
type Health struct {
	// LastRecordedAt is when the collector last recorded a quote (zero when never).
	LastRecordedAt time.Time
	// Tickers are the subscribed tickers and those with recorded prices, by ticker.
	Tickers []TickerHealth
	// Outbox and Parked are the rows waiting to be published and those parked, by topic.
	Outbox, Parked []TopicBacklog
	// Notifications counts the notification log's entries per delivery state.
	Notifications map[stockalert.DeliveryState]int
}

// Health reads the store's view of collection and delivery (the admin command's health).
func (s *Store) Health(ctx context.Context) (Health, error) {
	h := Health{Notifications: map[stockalert.DeliveryState]int{}}
	byTicker := map[stockalert.Ticker]*TickerHealth{}
	get := func(t stockalert.Ticker) *TickerHealth {
		if th, ok := byTicker[t]; ok {
			return th
		}
		th := &TickerHealth{Ticker: t}
		byTicker[t] = th
		return th
	}
	err := s.eachRow(ctx, `SELECT ticker, COUNT(*) FROM alert_rules GROUP BY ticker`, func(r *sql.Rows) error {
		var (
			t stockalert.Ticker
			n int
		)
		if err := r.Scan(&t, &n); err != nil {
			return err
		}
		get(t).Subscribers = n
		return nil
	})
	if err != nil {
		return Health{}, fmt.Errorf("health: subscriptions: %w", err)
	}
	err = s.eachRow(ctx, `SELECT ticker, MAX(quoted_at), MAX(recorded_at) FROM prices GROUP BY ticker`, func(r *sql.Rows) error {
		var (
			t                stockalert.Ticker
			quoted, recorded int64
		)
		if err := r.Scan(&t, &quoted, &recorded); err != nil {
			return err
		}
		th := get(t)
		th.QuotedAt = time.UnixMilli(quoted).UTC()
		th.RecordedAt = time.UnixMilli(recorded).UTC()
		if th.RecordedAt.After(h.LastRecordedAt) {
			h.LastRecordedAt = th.RecordedAt
		}
		return nil
	})
	if err != nil {
		return Health{}, fmt.Errorf("health: prices: %w", err)
	}
	for _, th := range byTicker {
		h.Tickers = append(h.Tickers, *th)
	}
	sort.Slice(h.Tickers, func(i, j int) bool { return h.Tickers[i].Ticker < h.Tickers[j].Ticker })
	backlog := func(table string) ([]TopicBacklog, error) {
		var out []TopicBacklog
		err := s.eachRow(ctx, `SELECT topic, COUNT(*), MIN(created_at) FROM `+table+` GROUP BY topic ORDER BY topic`,
			func(r *sql.Rows) error {
				var (
					b      TopicBacklog
					oldest int64
				)
				if err := r.Scan(&b.Topic, &b.Rows, &oldest); err != nil {
					return err
				}
				b.Oldest = time.UnixMilli(oldest).UTC()
				out = append(out, b)
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("health: %s: %w", table, err)
		}
		return out, nil
	}
	if h.Outbox, err = backlog("outbox"); err != nil {
		return Health{}, err
	}
	if h.Parked, err = backlog("outbox_parked"); err != nil {
		return Health{}, err
	}
	err = s.eachRow(ctx, `SELECT state, COUNT(*) FROM notifications GROUP BY state`, func(r *sql.Rows) error {
		var (
			st stockalert.DeliveryState
			n  int
		)
		if err := r.Scan(&st, &n); err != nil {
			return err
		}
		h.Notifications[st] = n
		return nil
	})
	if err != nil {
		return Health{}, fmt.Errorf("health: notifications: %w", err)
	}
	return h, nil
}

// eachRow runs q and calls fn for each row.
func (s *Store) eachRow(ctx context.Context, q string, fn func(*sql.Rows) error) error {
	rows, err := s.q(ctx).QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
