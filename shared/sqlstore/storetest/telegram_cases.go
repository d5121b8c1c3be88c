package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

var telegramCases = []contractCase{
	{"LinkTelegram/the one-time code links the chat, once", func(t *testing.T, f *fixture) {
		r := f.registerUser("tess@example.com", "AAPL", th(nil, nil))
		requireIs(t, f.link.Handle(f.ctx, command.LinkTelegram{Code: "not-the-code", ChatID: 5}), stockalert.ErrNotFound)
		f.linkChat(r, 5)
		require.Equal(t, int64(5), *f.mustProfile(r.email).TelegramChatID)
		requireIs(t, f.link.Handle(f.ctx, command.LinkTelegram{Code: r.linkCode, ChatID: 6}), stockalert.ErrNotFound,
			"a used code cannot link another chat")
		require.Equal(t, int64(5), *f.mustProfile(r.email).TelegramChatID)
		requireField(t, f.link.Handle(f.ctx, command.LinkTelegram{Code: "", ChatID: 5}), "code")
		requireField(t, f.link.Handle(f.ctx, command.LinkTelegram{Code: "has space", ChatID: 5}), "code")
		requireField(t, f.link.Handle(f.ctx, command.LinkTelegram{Code: r.linkCode, ChatID: 0}), "telegram_chat_id")
	}},
	{"LinkTelegram/a linked chat moves to another account only when told to, and the code stays until then", func(t *testing.T, f *fixture) {
		old := f.registerUser("old@example.com", "AAPL", th(nil, nil))
		fresh := f.registerUser("new@example.com", "AAPL", th(nil, nil))
		f.linkChat(old, 8)
		f.linkChat(fresh, 9)
		fresh.linkCode = stockalert.NewSecret()
		require.NoError(t, f.issueCode.Handle(f.ctx, command.IssueLinkCode{Email: fresh.email, CodeHash: stockalert.HashSecret(fresh.linkCode)}))
		err := f.link.Handle(f.ctx, command.LinkTelegram{Code: fresh.linkCode, ChatID: 8})
		requireConflict(t, err, "telegram_chat_id")
		require.Equal(t, int64(8), *f.mustProfile(old.email).TelegramChatID, "nothing moved")
		h, err := f.codeHolder.Handle(f.ctx, query.LinkCodeHolder{Code: fresh.linkCode})
		require.NoError(t, err, "the code is not used up by a refused link")
		require.Equal(t, stockalert.Email("new@example.com"), h.Email)
		require.Equal(t, int64(9), *h.TelegramChatID)

		require.NoError(t, f.link.Handle(f.ctx, command.LinkTelegram{Code: fresh.linkCode, ChatID: 8, Relink: true}))
		require.Nil(t, f.mustProfile(old.email).TelegramChatID)
		require.Equal(t, int64(8), *f.mustProfile(fresh.email).TelegramChatID)
		requireIs(t, f.link.Handle(f.ctx, command.LinkTelegram{Code: fresh.linkCode, ChatID: 8, Relink: true}), stockalert.ErrNotFound,
			"the code is used up")
		_, err = f.codeHolder.Handle(f.ctx, query.LinkCodeHolder{Code: fresh.linkCode})
		requireIs(t, err, stockalert.ErrNotFound)
	}},
	{"LinkTelegram/the account's own code relinks its chat without asking", func(t *testing.T, f *fixture) {
		r := f.registerUser("own@example.com", "AAPL", th(nil, nil))
		f.linkChat(r, 10)
		code := stockalert.NewSecret()
		require.NoError(t, f.issueCode.Handle(f.ctx, command.IssueLinkCode{Email: r.email, CodeHash: stockalert.HashSecret(code)}))
		require.NoError(t, f.link.Handle(f.ctx, command.LinkTelegram{Code: code, ChatID: 10}))
		require.Equal(t, int64(10), *f.mustProfile(r.email).TelegramChatID)
		_, err := f.codeHolder.Handle(f.ctx, query.LinkCodeHolder{Code: "bad code"})
		requireField(t, err, "code")
	}},
	{"RotateToken/the chat's account gets the new token; the old one and its records are gone", func(t *testing.T, f *fixture) {
		_, _, err := f.registerOnce("key-rotate-token-0000001", "rot@example.com", "AAPL")
		require.NoError(t, err)
		var oldHash string
		require.NoError(t, f.store.DB().QueryRowContext(f.ctx, `SELECT token_hash FROM users WHERE email = ?`, "rot@example.com").Scan(&oldHash))
		code := stockalert.NewSecret()
		require.NoError(t, f.issueCode.Handle(f.ctx, command.IssueLinkCode{Email: "rot@example.com", CodeHash: stockalert.HashSecret(code)}))
		require.NoError(t, f.link.Handle(f.ctx, command.LinkTelegram{Code: code, ChatID: 21}))
		other := f.registerUser("oth@example.com", "AAPL", th(nil, nil))
		f.linkChat(other, 22)

		token := stockalert.NewSecret()
		require.NoError(t, f.rotateToken.Handle(f.ctx, command.RotateToken{ChatID: 21, TokenHash: stockalert.HashSecret(token)}))
		_, err = f.authenticate.Handle(f.ctx, query.Authenticate{Email: "rot@example.com", Token: token})
		require.NoError(t, err, "the new token works")
		require.Zero(t, f.count("users", "token_hash = ?", oldHash), "the old token is revoked")
		require.Zero(t, f.count("idempotency_keys", ""), "the registration's answer held the old token")
		_, err = f.authenticate.Handle(f.ctx, query.Authenticate{Email: other.email, Token: other.token})
		require.NoError(t, err, "other users keep theirs")

		requireIs(t, f.rotateToken.Handle(f.ctx, command.RotateToken{ChatID: 23, TokenHash: stockalert.HashSecret(token)}), stockalert.ErrNotFound)
		requireField(t, f.rotateToken.Handle(f.ctx, command.RotateToken{ChatID: 0, TokenHash: stockalert.HashSecret(token)}), "telegram_chat_id")
	}},
	{"RegisterUser/a chat bound at registration cannot be bound to a second account", func(t *testing.T, f *fixture) {
		chat := int64(31)
		require.NoError(t, f.register.Handle(f.ctx, command.RegisterUser{Email: "chat1@example.com", TelegramChatID: &chat,
			TokenHash: stockalert.HashSecret("t1"), LinkCodeHash: stockalert.HashSecret("c1")}))
		err := f.register.Handle(f.ctx, command.RegisterUser{Email: "chat2@example.com", TelegramChatID: &chat,
			TokenHash: stockalert.HashSecret("t2"), LinkCodeHash: stockalert.HashSecret("c2")})
		requireConflict(t, err, "telegram_chat_id")
		err = f.register.Handle(f.ctx, command.RegisterUser{Email: "chat1@example.com", TelegramChatID: &chat,
			TokenHash: stockalert.HashSecret("t3"), LinkCodeHash: stockalert.HashSecret("c3")})
		requireConflict(t, err, "email")
		require.Equal(t, 1, f.count("users", "telegram_chat_id = ?", chat))
	}},
	{"MoveTelegramChat/a migrated group's link moves to the supergroup, once", func(t *testing.T, f *fixture) {
		r := f.registerUser("gus@example.com", "AAPL", th(nil, nil))
		other := f.registerUser("hal@example.com", "AAPL", th(nil, nil))
		f.linkChat(r, -4001)
		f.linkChat(other, 77)
		require.NoError(t, f.moveChat.Handle(f.ctx, command.MoveTelegramChat{From: -4001, To: -1004001004001}))
		require.Equal(t, int64(-1004001004001), *f.mustProfile(r.email).TelegramChatID)
		require.Equal(t, int64(77), *f.mustProfile(other.email).TelegramChatID, "other links stay")
		// The commands keyed by chat id now find the account under the new id only.
		require.NoError(t, f.setPaused.Handle(f.ctx, command.SetPaused{ChatID: -1004001004001, Paused: true}))
		require.True(t, f.mustProfile(r.email).Paused)
		requireIs(t, f.setPaused.Handle(f.ctx, command.SetPaused{ChatID: -4001, Paused: false}), stockalert.ErrNotFound)
		// Telegram signals a migration up to three times: the later ones change nothing.
		require.NoError(t, f.moveChat.Handle(f.ctx, command.MoveTelegramChat{From: -4001, To: -1004001004001}))
		require.Equal(t, int64(-1004001004001), *f.mustProfile(r.email).TelegramChatID)
		requireField(t, f.moveChat.Handle(f.ctx, command.MoveTelegramChat{From: 0, To: -100}), "telegram_chat_id")
		requireField(t, f.moveChat.Handle(f.ctx, command.MoveTelegramChat{From: 77, To: 77}), "telegram_chat_id")
		require.Equal(t, int64(77), *f.mustProfile(other.email).TelegramChatID)
	}},
	{"MoveTelegramChat/a supergroup linked already keeps its link; the dead group is unlinked", func(t *testing.T, f *fixture) {
		old := f.registerUser("ida@example.com", "AAPL", th(nil, nil))
		fresh := f.registerUser("jon@example.com", "AAPL", th(nil, nil))
		f.linkChat(old, -4002)
		f.linkChat(fresh, -1004002004002)
		require.NoError(t, f.moveChat.Handle(f.ctx, command.MoveTelegramChat{From: -4002, To: -1004002004002}))
		require.Nil(t, f.mustProfile(old.email).TelegramChatID)
		require.Equal(t, int64(-1004002004002), *f.mustProfile(fresh.email).TelegramChatID)
	}},
	{"IssueLinkCode/replaces the code", func(t *testing.T, f *fixture) {
		r := f.registerUser("uma@example.com", "AAPL", th(nil, nil))
		code := stockalert.NewSecret()
		require.NoError(t, f.issueCode.Handle(f.ctx, command.IssueLinkCode{Email: r.email, CodeHash: stockalert.HashSecret(code)}))
		requireIs(t, f.link.Handle(f.ctx, command.LinkTelegram{Code: r.linkCode, ChatID: 3}), stockalert.ErrNotFound)
		require.NoError(t, f.link.Handle(f.ctx, command.LinkTelegram{Code: code, ChatID: 3}))
		requireIs(t, f.issueCode.Handle(f.ctx, command.IssueLinkCode{Email: "no@example.com", CodeHash: stockalert.HashSecret(code)}),
			stockalert.ErrNotFound)
	}},
	{"SetNotifyInterval and SetPaused/act on the linked user only", func(t *testing.T, f *fixture) {
		r := f.registerUser("val@example.com", "AAPL", th(nil, nil))
		f.linkChat(r, 12)
		require.NoError(t, f.setInterval.Handle(f.ctx, command.SetNotifyInterval{ChatID: 12, Seconds: 90}))
		require.Equal(t, int64(90), int64(f.mustProfile(r.email).NotifyInterval.Seconds()))
		require.NoError(t, f.setInterval.Handle(f.ctx, command.SetNotifyInterval{ChatID: 12, Seconds: 90}), "setting the same value again is fine")
		for _, s := range []int64{-1, 30*24*3600 + 1} {
			requireField(t, f.setInterval.Handle(f.ctx, command.SetNotifyInterval{ChatID: 12, Seconds: s}), "interval")
		}
		requireIs(t, f.setInterval.Handle(f.ctx, command.SetNotifyInterval{ChatID: 13, Seconds: 60}), stockalert.ErrNotFound)
		require.NoError(t, f.setPaused.Handle(f.ctx, command.SetPaused{ChatID: 12, Paused: true}))
		require.True(t, f.mustProfile(r.email).Paused)
		requireIs(t, f.setPaused.Handle(f.ctx, command.SetPaused{ChatID: 13, Paused: true}), stockalert.ErrNotFound)
	}},
	{"ChatProfile/the linked user's tickers with their latest prices", func(t *testing.T, f *fixture) {
		r := f.registerUser("wes@example.com", "AAPL", th(f64(200), nil))
		require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "MSFT"}))
		f.linkChat(r, 21)
		f.recordQuotes(quote("AAPL", 190, f.clock.Now()))
		st, err := f.chatProfile.Handle(f.ctx, query.ChatProfile{ChatID: 21})
		require.NoError(t, err)
		require.Equal(t, stockalert.Email("wes@example.com"), st.Profile.Email)
		require.Equal(t, []stockalert.Ticker{"AAPL", "MSFT"}, st.Profile.Tickers())
		require.Equal(t, 190.0, st.Prices["AAPL"].Price)
		_, ok := st.Prices["MSFT"]
		require.False(t, ok, "no price yet")
		_, err = f.chatProfile.Handle(f.ctx, query.ChatProfile{ChatID: 22})
		requireIs(t, err, stockalert.ErrNotFound)
	}},
}
