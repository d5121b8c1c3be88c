package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/stockalert"
)

var adminCases = []contractCase{
	{"ListUsers/by e-mail part, ticker and chat, with their tickers", func(t *testing.T, f *fixture) {
		ann := f.registerUser("ann@example.com", "AAPL", th(f64(200), nil))
		f.registerUser("bob@example.org", "MSFT", th(nil, nil))
		f.registerUser("a_b%c!@example.com", "VOD.L", th(nil, nil))
		require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: "ann@example.com", Ticker: "MSFT"}))
		f.linkChat(ann, 77)

		emails := func(us []sqlstore.UserSummary) []string {
			out := make([]string, 0, len(us))
			for _, u := range us {
				out = append(out, string(u.Email))
			}
			return out
		}
		all, err := f.store.ListUsers(f.ctx, sqlstore.UserFilter{}, 100)
		require.NoError(t, err)
		require.Equal(t, []string{"a_b%c!@example.com", "ann@example.com", "bob@example.org"}, emails(all))
		require.Equal(t, []stockalert.Ticker{"AAPL", "MSFT"}, all[1].Tickers)
		require.Equal(t, int64(77), *all[1].TelegramChatID)
		require.Nil(t, all[2].TelegramChatID)
		require.Equal(t, f.clock.Now(), all[1].CreatedAt)

		for _, c := range []struct {
			f    sqlstore.UserFilter
			want []string
		}{
			{sqlstore.UserFilter{EmailContains: "EXAMPLE.COM"}, []string{"a_b%c!@example.com", "ann@example.com"}},
			{sqlstore.UserFilter{EmailContains: "_"}, []string{"a_b%c!@example.com"}},
			{sqlstore.UserFilter{EmailContains: "%"}, []string{"a_b%c!@example.com"}},
			{sqlstore.UserFilter{EmailContains: "!"}, []string{"a_b%c!@example.com"}},
			{sqlstore.UserFilter{Ticker: "MSFT"}, []string{"ann@example.com", "bob@example.org"}},
			{sqlstore.UserFilter{Ticker: "MSFT", EmailContains: "bob"}, []string{"bob@example.org"}},
			{sqlstore.UserFilter{ChatID: new(int64(77))}, []string{"ann@example.com"}},
			{sqlstore.UserFilter{ChatID: new(int64(78))}, []string{}},
			{sqlstore.UserFilter{Ticker: "NVDA"}, []string{}},
		} {
			got, err := f.store.ListUsers(f.ctx, c.f, 100)
			require.NoError(t, err)
			require.Equal(t, c.want, emails(got), "%+v", c.f)
		}
		two, err := f.store.ListUsers(f.ctx, sqlstore.UserFilter{}, 2)
		require.NoError(t, err)
		require.Len(t, two, 2, "limit")
	}},
	{"LastNotifications/newest first with what was recorded; unknown user", func(t *testing.T, f *fixture) {
		r := f.registerUser("log@example.com", "AAPL", th(f64(1), nil))
		uid := f.mustProfile(r.email).UserID
		chat := int64(5)
		for i, st := range []stockalert.DeliveryState{stockalert.Sent, stockalert.Failed, stockalert.Undeliverable} {
			a := stockalert.AlertEvent{EventID: "e" + string(rune('1'+i)), Email: stockalert.Email(r.email), Ticker: "AAPL",
				Condition: stockalert.Above, Price: 2 + float64(i), Threshold: 1}
			errText := ""
			if st != stockalert.Sent {
				errText = "boom " + string(st)
			}
			require.NoError(t, f.recordNotif.Handle(f.ctx, command.RecordNotification{Alert: a, UserID: uid, ChatID: &chat,
				State: st, Error: errText}))
			f.clock.Advance(time.Second)
		}
		got, err := f.store.LastNotifications(f.ctx, "log@example.com", 2)
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, "e3", got[0].EventID)
		require.Equal(t, stockalert.Undeliverable, got[0].State)
		require.Equal(t, "boom undeliverable", got[0].LastError)
		require.Equal(t, 4.0, got[0].Price)
		require.Equal(t, 1.0, got[0].Threshold)
		require.Equal(t, stockalert.Above, got[0].Condition)
		require.Equal(t, stockalert.Ticker("AAPL"), got[0].Ticker)
		require.Equal(t, chat, *got[0].ChatID)
		require.Equal(t, 1, got[0].Attempts)
		require.Equal(t, "e2", got[1].EventID)
		require.Equal(t, f.clock.Now().Add(-2*time.Second), got[1].CreatedAt)

		none := f.registerUser("quiet@example.com", "AAPL", th(nil, nil))
		got, err = f.store.LastNotifications(f.ctx, stockalert.Email(none.email), 10)
		require.NoError(t, err)
		require.Empty(t, got)
		_, err = f.store.LastNotifications(f.ctx, "nobody@example.com", 10)
		requireIs(t, err, stockalert.ErrNotFound)
	}},
	{"ReplaceToken/the old token stops working, the new one works, the registration's record is gone", func(t *testing.T, f *fixture) {
		_, _, err := f.registerOnce("key-replace-token-000001", "tok@example.com", "AAPL")
		require.NoError(t, err)
		var oldHash string
		require.NoError(t, f.store.DB().QueryRowContext(f.ctx, `SELECT token_hash FROM users WHERE email = ?`, "tok@example.com").Scan(&oldHash))
		other := f.registerUser("other@example.com", "AAPL", th(nil, nil))
		require.Equal(t, 1, f.count("idempotency_keys", ""))

		token := stockalert.NewSecret()
		require.NoError(t, f.store.ReplaceToken(f.ctx, "tok@example.com", stockalert.HashSecret(token)))
		_, err = f.authenticate.Handle(f.ctx, query.Authenticate{Email: "tok@example.com", Token: token})
		require.NoError(t, err, "the new token works")
		require.Zero(t, f.count("users", "token_hash = ?", oldHash), "the old hash is gone")
		require.Zero(t, f.count("idempotency_keys", ""), "the registration's answer held the old token")
		_, err = f.authenticate.Handle(f.ctx, query.Authenticate{Email: other.email, Token: other.token})
		require.NoError(t, err, "other users keep theirs")

		err = f.store.ReplaceToken(f.ctx, "nobody@example.com", stockalert.HashSecret(token))
		requireIs(t, err, stockalert.ErrNotFound)
	}},
	{"Health/tickers, outbox and parked backlogs, notification states", func(t *testing.T, f *fixture) {
		h, err := f.store.Health(f.ctx)
		require.NoError(t, err)
		require.True(t, h.LastRecordedAt.IsZero())
		require.Empty(t, h.Tickers)
		require.Empty(t, h.Outbox)
		require.Empty(t, h.Parked)
		require.Empty(t, h.Notifications)

		r := f.registerUser("h1@example.com", "AAPL", th(f64(1), nil))
		f.registerUser("h2@example.com", "AAPL", th(nil, nil))
		f.registerUser("h3@example.com", "MSFT", th(nil, nil))
		t0 := f.clock.Now().Add(-time.Minute)
		require.NoError(t, f.recordPrices.Handle(f.ctx, command.RecordPrices{Quotes: []stockalert.Quote{
			quote("AAPL", 2, t0.Add(-time.Hour)), quote("AAPL", 3, t0), quote("TSLA", 9, t0.Add(-2*time.Hour)),
		}}))
		recorded := f.clock.Now()
		f.clock.Advance(time.Second)
		require.NoError(t, f.store.AppendOutbox(f.ctx, stockalert.OutboxMessage{Topic: "to-notifier", Key: "k", Value: []byte("v")}))
		pending, err := f.store.PendingOutbox(f.ctx, "to-notifier", 10)
		require.NoError(t, err)
		require.NoError(t, f.store.ParkOutbox(f.ctx, stockalert.ParkedMessage{OutboxMessage: stockalert.OutboxMessage{ID: pending[0].ID}, Reason: "too large"}))
		uid := f.mustProfile(r.email).UserID
		for i, st := range []stockalert.DeliveryState{stockalert.Sent, stockalert.Failed, stockalert.Failed} {
			a := stockalert.AlertEvent{EventID: "h" + string(rune('1'+i)), Email: stockalert.Email(r.email), Ticker: "AAPL", Condition: stockalert.Above, Price: 2, Threshold: 1}
			require.NoError(t, f.recordNotif.Handle(f.ctx, command.RecordNotification{Alert: a, UserID: uid, State: st}))
		}

		h, err = f.store.Health(f.ctx)
		require.NoError(t, err)
		require.Equal(t, recorded, h.LastRecordedAt)
		require.Equal(t, []sqlstore.TickerHealth{
			{Ticker: "AAPL", Subscribers: 2, QuotedAt: t0, RecordedAt: recorded},
			{Ticker: "MSFT", Subscribers: 1},
			{Ticker: "TSLA", QuotedAt: t0.Add(-2 * time.Hour), RecordedAt: recorded},
		}, h.Tickers)
		require.Len(t, h.Parked, 1)
		require.Equal(t, "to-notifier", h.Parked[0].Topic)
		require.Equal(t, 1, h.Parked[0].Rows)
		require.Equal(t, recorded.Add(time.Second), h.Parked[0].Oldest)
		// The price events of the recorded quotes wait in the outbox.
		require.Len(t, h.Outbox, 1)
		require.Equal(t, stockalert.TopicPrices, h.Outbox[0].Topic)
		require.Equal(t, f.count("outbox", "topic = ?", stockalert.TopicPrices), h.Outbox[0].Rows)
		require.Equal(t, map[stockalert.DeliveryState]int{stockalert.Sent: 1, stockalert.Failed: 2}, h.Notifications)
	}},
}
