package adminapp

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// userJSON is a user in --json output.
type userJSON struct {
	ID             int64               `json:"id"`
	Email          stockalert.Email    `json:"email"`
	TelegramChatID *int64              `json:"telegram_chat_id"`
	Paused         bool                `json:"paused"`
	CreatedAt      time.Time           `json:"created_at"`
	Tickers        []stockalert.Ticker `json:"tickers"`
}

func (c *cmdline) usersList(ctx context.Context, args []string) error {
	fs := c.flags("users list", false)
	email := fs.String("email", "", "e-mail addresses containing this")
	ticker := fs.String("ticker", "", "users watching this ticker")
	chat := fs.String("chat", "", "the user linked to this Telegram chat id")
	limit := fs.Int("limit", 1000, "at most this many users")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	var f sqlstore.UserFilter
	f.EmailContains = strings.TrimSpace(*email)
	if *ticker != "" {
		t, err := stockalert.ParseTicker(*ticker)
		if err != nil {
			return usagef("users list: --ticker: %v", err)
		}
		f.Ticker = t
	}
	if *chat != "" {
		id, err := strconv.ParseInt(strings.TrimSpace(*chat), 10, 64)
		if err != nil {
			return usagef("users list: --chat %q is not a Telegram chat id (an integer)", *chat)
		}
		f.ChatID = &id
	}
	if *limit <= 0 {
		return usagef("users list: --limit must be positive")
	}
	return c.withStore(ctx, func(s *sqlstore.Store) error {
		users, err := s.ListUsers(ctx, f, *limit)
		if err != nil {
			return err
		}
		out := make([]userJSON, len(users))
		for i, u := range users {
			out[i] = userJSON{ID: u.ID, Email: u.Email, TelegramChatID: u.TelegramChatID, Paused: u.Paused,
				CreatedAt: u.CreatedAt, Tickers: u.Tickers}
			if out[i].Tickers == nil {
				out[i].Tickers = []stockalert.Ticker{}
			}
		}
		return c.output(out, func(w io.Writer) {
			row(w, "ID", "EMAIL", "CHAT", "PAUSED", "CREATED", "TICKERS")
			for _, u := range out {
				row(w, u.ID, u.Email, optInt(u.TelegramChatID), u.Paused, u.CreatedAt.Format(time.RFC3339), joinTickers(u.Tickers))
			}
		})
	})
}

// subscriptionJSON is one rule in users show --json.
type subscriptionJSON struct {
	Ticker        stockalert.Ticker     `json:"ticker"`
	HighValue     *float64              `json:"high_value"`
	LowValue      *float64              `json:"low_value"`
	State         stockalert.AlertState `json:"state"`
	LastAlertedAt *time.Time            `json:"last_alerted_at"`
}

// alertJSON is one notification-log entry in users show --json.
type alertJSON struct {
	EventID   string                   `json:"event_id"`
	Ticker    stockalert.Ticker        `json:"ticker"`
	Condition stockalert.Condition     `json:"condition"`
	Price     float64                  `json:"price"`
	Threshold float64                  `json:"threshold"`
	State     stockalert.DeliveryState `json:"state"`
	Attempts  int                      `json:"attempts"`
	LastError string                   `json:"last_error,omitempty"`
	ChatID    *int64                   `json:"chat_id"`
	CreatedAt time.Time                `json:"created_at"`
	UpdatedAt time.Time                `json:"updated_at"`
}

// showJSON is users show --json.
type showJSON struct {
	User                 userJSON           `json:"user"`
	NotifyIntervalSecond int64              `json:"notify_interval_s"`
	Subscriptions        []subscriptionJSON `json:"subscriptions"`
	Alerts               []alertJSON        `json:"alerts"`
}

func (c *cmdline) usersShow(ctx context.Context, args []string) error {
	fs := c.flags("users show", false)
	n := fs.Int("alerts", 10, "show this many of the last alerts")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *n < 0 {
		return usagef("users show: --alerts must not be negative")
	}
	email, err := stockalert.ParseEmail(pos[0])
	if err != nil {
		return usagef("users show: %v", err)
	}
	return c.withStore(ctx, func(s *sqlstore.Store) error {
		p, err := s.UserProfile(ctx, email)
		if err != nil {
			return notFoundWords(err, email)
		}
		var log []sqlstore.NotificationEntry
		if *n > 0 {
			if log, err = s.LastNotifications(ctx, email, *n); err != nil {
				return notFoundWords(err, email)
			}
		}
		out := showJSON{
			User: userJSON{ID: p.UserID, Email: p.Email, TelegramChatID: p.TelegramChatID, Paused: p.Paused,
				CreatedAt: p.CreatedAt, Tickers: p.Tickers()},
			NotifyIntervalSecond: int64(p.NotifyInterval / time.Second),
			Subscriptions:        make([]subscriptionJSON, len(p.Subscriptions)),
			Alerts:               make([]alertJSON, len(log)),
		}
		if out.User.Tickers == nil {
			out.User.Tickers = []stockalert.Ticker{}
		}
		for i, sub := range p.Subscriptions {
			out.Subscriptions[i] = subscriptionJSON{Ticker: sub.Ticker, HighValue: sub.Thresholds.High,
				LowValue: sub.Thresholds.Low, State: sub.State, LastAlertedAt: optTime(sub.LastAlertedAt)}
		}
		for i, e := range log {
			out.Alerts[i] = alertJSON{EventID: e.EventID, Ticker: e.Ticker, Condition: e.Condition, Price: e.Price,
				Threshold: e.Threshold, State: e.State, Attempts: e.Attempts, LastError: e.LastError, ChatID: e.ChatID,
				CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
		}
		return c.output(out, func(w io.Writer) {
			row(w, "EMAIL", "ID", "CHAT", "PAUSED", "INTERVAL", "CREATED")
			row(w, p.Email, p.UserID, optInt(p.TelegramChatID), p.Paused, p.NotifyInterval, p.CreatedAt.Format(time.RFC3339))
			row(w)
			row(w, "TICKER", "HIGH", "LOW", "STATE", "LAST ALERTED")
			for _, sub := range out.Subscriptions {
				row(w, sub.Ticker, optFloat(sub.HighValue), optFloat(sub.LowValue), sub.State, optTimeText(sub.LastAlertedAt))
			}
			row(w)
			row(w, "ALERT", "TICKER", "CONDITION", "PRICE", "THRESHOLD", "STATE", "ATTEMPTS", "AT", "ERROR")
			for _, a := range out.Alerts {
				row(w, a.EventID, a.Ticker, a.Condition, a.Price, a.Threshold, a.State, a.Attempts,
					a.CreatedAt.Format(time.RFC3339), oneLine(a.LastError))
			}
		})
	})
}

func (c *cmdline) usersDelete(ctx context.Context, args []string) error {
	fs := c.flags("users delete", true)
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	email, err := stockalert.ParseEmail(pos[0])
	if err != nil {
		return usagef("users delete: %v", err)
	}
	return c.withStore(ctx, func(s *sqlstore.Store) error {
		if _, err := s.UserByEmail(ctx, email); err != nil {
			return notFoundWords(err, email)
		}
		if err := c.confirm(fmt.Sprintf("delete user %s with their rules and notification log", email)); err != nil {
			return err
		}
		if err := command.NewDeleteUserHandler(s, nil, nil).Handle(ctx, command.DeleteUser{Email: string(email)}); err != nil {
			return notFoundWords(err, email)
		}
		return c.output(map[string]any{"deleted": email}, func(w io.Writer) {
			row(w, "deleted user "+string(email))
		})
	})
}

func (c *cmdline) usersRevokeToken(ctx context.Context, args []string) error {
	fs := c.flags("users revoke-token", true)
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	email, err := stockalert.ParseEmail(pos[0])
	if err != nil {
		return usagef("users revoke-token: %v", err)
	}
	return c.withStore(ctx, func(s *sqlstore.Store) error {
		if _, err := s.UserByEmail(ctx, email); err != nil {
			return notFoundWords(err, email)
		}
		if err := c.confirm(fmt.Sprintf("revoke the API token of %s (a new one is printed once)", email)); err != nil {
			return err
		}
		token := stockalert.NewSecret()
		if err := s.ReplaceToken(ctx, email, stockalert.HashSecret(token)); err != nil {
			return notFoundWords(err, email)
		}
		return c.output(map[string]any{"email": email, "token": token}, func(w io.Writer) {
			row(w, "revoked the token of "+string(email)+"; its new token (shown once, only its hash is kept):")
			row(w, token)
		})
	})
}

// notFoundWords says plainly that a user does not exist.
func notFoundWords(err error, email stockalert.Email) error {
	if isNotFound(err) {
		return fmt.Errorf("no user %s", email)
	}
	return err
}

func joinTickers(ts []stockalert.Ticker) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ",")
}

func optInt(p *int64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatInt(*p, 10)
}

func optFloat(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func optTimeText(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
