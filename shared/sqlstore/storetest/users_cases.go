package storetest

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

var userCases = []contractCase{
	{"RegisterUser/stores the user and one subscription", func(t *testing.T, f *fixture) {
		chat := int64(4242)
		r := registered{email: "Ada@Example.COM", token: stockalert.NewSecret(), linkCode: stockalert.NewSecret()}
		require.NoError(t, f.register.Handle(f.ctx, command.RegisterUser{
			Email: r.email, Ticker: " aapl ", Thresholds: th(f64(200), f64(150)), TelegramChatID: &chat,
			TokenHash: stockalert.HashSecret(r.token), LinkCodeHash: stockalert.HashSecret(r.linkCode),
		}))
		p := f.mustProfile("ada@example.com")
		require.Equal(t, stockalert.Email("ada@example.com"), p.Email)
		require.Equal(t, &chat, p.TelegramChatID)
		require.Equal(t, stockalert.DefaultNotifyInterval, p.NotifyInterval)
		require.False(t, p.Paused)
		require.Equal(t, f.clock.Now(), p.CreatedAt)
		require.Len(t, p.Subscriptions, 1)
		sub := p.Subscriptions[0]
		require.Equal(t, stockalert.Ticker("AAPL"), sub.Ticker)
		require.Equal(t, 200.0, *sub.Thresholds.High)
		require.Equal(t, 150.0, *sub.Thresholds.Low)
		require.Equal(t, stockalert.Armed, sub.State)
		require.True(t, sub.LastAlertedAt.IsZero())
		require.Equal(t, 1, f.count("users", "token_hash = ?", stockalert.HashSecret(r.token)), "only the token's hash is stored")
		require.Zero(t, f.count("users", "token_hash = ?", r.token))
	}},
	{"RegisterUser/either threshold alone, or none", func(t *testing.T, f *fixture) {
		f.registerUser("high@example.com", "MSFT", th(f64(500), nil))
		f.registerUser("low@example.com", "MSFT", th(nil, f64(300)))
		f.registerUser("none@example.com", "MSFT", th(nil, nil))
		require.Nil(t, f.mustProfile("high@example.com").Subscriptions[0].Thresholds.Low)
		require.Nil(t, f.mustProfile("low@example.com").Subscriptions[0].Thresholds.High)
		none := f.mustProfile("none@example.com").Subscriptions[0].Thresholds
		require.Nil(t, none.High)
		require.Nil(t, none.Low)
	}},
	{"RegisterUser/rejects bad input and writes nothing", func(t *testing.T, f *fixture) {
		zero := int64(0)
		for _, c := range []struct {
			name  string
			cmd   command.RegisterUser
			field string
		}{
			{"malformed email", command.RegisterUser{Email: "not-an-email", Ticker: "AAPL"}, "email"},
			{"email with a name", command.RegisterUser{Email: "Ada <ada@example.com>", Ticker: "AAPL"}, "email"},
			{"oversized email", command.RegisterUser{Email: strings.Repeat("a", 250) + "@x.io", Ticker: "AAPL"}, "email"},
			{"a threshold without a ticker", command.RegisterUser{Email: "a@example.com", Thresholds: th(f64(10), nil)}, "ticker"},
			{"unknown ticker format", command.RegisterUser{Email: "a@example.com", Ticker: "AA PL"}, "ticker"},
			{"oversized ticker", command.RegisterUser{Email: "a@example.com", Ticker: strings.Repeat("A", 17)}, "ticker"},
			{"negative high", command.RegisterUser{Email: "a@example.com", Ticker: "AAPL", Thresholds: th(f64(-1), nil)}, "high_value"},
			{"zero low", command.RegisterUser{Email: "a@example.com", Ticker: "AAPL", Thresholds: th(nil, f64(0))}, "low_value"},
			{"NaN high", command.RegisterUser{Email: "a@example.com", Ticker: "AAPL", Thresholds: th(f64(math.NaN()), nil)}, "high_value"},
			{"infinite low", command.RegisterUser{Email: "a@example.com", Ticker: "AAPL", Thresholds: th(nil, f64(math.Inf(1)))}, "low_value"},
			{"high equal to low", command.RegisterUser{Email: "a@example.com", Ticker: "AAPL", Thresholds: th(f64(10), f64(10))}, "high_value"},
			{"high below low", command.RegisterUser{Email: "a@example.com", Ticker: "AAPL", Thresholds: th(f64(5), f64(10))}, "high_value"},
			{"zero chat id", command.RegisterUser{Email: "a@example.com", Ticker: "AAPL", TelegramChatID: &zero}, "telegram_chat_id"},
		} {
			c.cmd.TokenHash, c.cmd.LinkCodeHash = stockalert.HashSecret("t"), stockalert.HashSecret("c")
			err := f.register.Handle(f.ctx, c.cmd)
			requireField(t, err, c.field)
		}
		require.Zero(t, f.count("users", ""))
		require.Zero(t, f.count("alert_rules", ""))
	}},
	{"RegisterUser/an e-mail registers once, whatever its case", func(t *testing.T, f *fixture) {
		f.registerUser("bob@example.com", "AAPL", th(nil, nil))
		err := f.register.Handle(f.ctx, command.RegisterUser{Email: "BOB@example.com", Ticker: "MSFT",
			TokenHash: stockalert.HashSecret("x"), LinkCodeHash: stockalert.HashSecret("y")})
		requireIs(t, err, stockalert.ErrConflict)
		var ce *stockalert.ConflictError
		require.True(t, errors.As(err, &ce))
		require.Equal(t, "email", ce.Field)
		require.Equal(t, 1, f.count("alert_rules", ""), "the failed registration left nothing behind")
	}},
	{"RegisterUser/a chat belongs to one user", func(t *testing.T, f *fixture) {
		chat := int64(77)
		for i, email := range []string{"one@example.com", "two@example.com"} {
			err := f.register.Handle(f.ctx, command.RegisterUser{Email: email, Ticker: "AAPL", TelegramChatID: &chat,
				TokenHash: stockalert.HashSecret(email), LinkCodeHash: stockalert.HashSecret(email + "c")})
			if i == 0 {
				require.NoError(t, err)
				continue
			}
			var ce *stockalert.ConflictError
			require.True(t, errors.As(err, &ce), "got %v", err)
			require.Equal(t, "telegram_chat_id", ce.Field)
		}
		require.Equal(t, 1, f.count("users", ""))
	}},
	{"DeleteUser/removes the user and everything about them but shared prices", func(t *testing.T, f *fixture) {
		gone := f.registerUser("gone@example.com", "AAPL", th(f64(100), nil))
		f.registerUser("stays@example.com", "AAPL", th(f64(100), nil))
		f.linkChat(gone, 1001)
		require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: gone.email, Ticker: "MSFT"}))
		f.recordQuotes(quote("AAPL", 150, f.clock.Now()))
		require.NoError(t, f.recordNotif.Handle(f.ctx, command.RecordNotification{
			Alert:  stockalert.AlertEvent{EventID: "ev-1", Email: "gone@example.com", Ticker: "AAPL", Condition: stockalert.Above, Price: 150, Threshold: 100},
			UserID: f.mustProfile(gone.email).UserID, State: stockalert.Sent,
		}))
		_, _, err := f.store.RunOnce(f.ctx, stockalert.IdempotencyClaim{Scope: "t", Key: "k", Fingerprint: "fp"},
			"gone@example.com", func(context.Context) ([]byte, error) { return []byte("r"), nil })
		require.NoError(t, err)

		require.NoError(t, f.deleteUser.Handle(f.ctx, command.DeleteUser{Email: "GONE@example.com"}))

		_, err = f.profile.Handle(f.ctx, query.UserProfile{Email: gone.email})
		requireIs(t, err, stockalert.ErrNotFound)
		require.Equal(t, 1, f.count("alert_rules", ""), "only the other user's subscription is left")
		require.Zero(t, f.count("notifications", ""))
		require.Zero(t, f.count("idempotency_keys", ""))
		require.Equal(t, 1, f.count("prices", ""), "prices are shared and stay")
		requireIs(t, f.deleteUser.Handle(f.ctx, command.DeleteUser{Email: gone.email}), stockalert.ErrNotFound)
	}},
	{"Authenticate/accepts only the right token and never tells whether the user exists", func(t *testing.T, f *fixture) {
		r := f.registerUser("carol@example.com", "AAPL", th(nil, nil))
		p, err := f.authenticate.Handle(f.ctx, query.Authenticate{Email: "Carol@Example.com", Token: r.token})
		require.NoError(t, err)
		require.Equal(t, stockalert.Email("carol@example.com"), p.Email)
		require.Equal(t, f.mustProfile(r.email).UserID, p.UserID)
		for _, q := range []query.Authenticate{
			{Email: r.email, Token: "wrong"},
			{Email: r.email, Token: ""},
			{Email: "nobody@example.com", Token: r.token},
			{Email: "malformed", Token: r.token},
		} {
			_, err := f.authenticate.Handle(f.ctx, q)
			require.ErrorIs(t, err, stockalert.ErrUnauthorized, "%+v", q)
			require.Equal(t, stockalert.ErrUnauthorized.Error(), err.Error(), "the error says nothing more")
		}
	}},
	{"UserProfile/unknown and malformed e-mails", func(t *testing.T, f *fixture) {
		_, err := f.profile.Handle(f.ctx, query.UserProfile{Email: "nobody@example.com"})
		requireIs(t, err, stockalert.ErrNotFound)
		_, err = f.profile.Handle(f.ctx, query.UserProfile{Email: "@@"})
		requireField(t, err, "email")
	}},
}
