package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// evaluateAAPL handles a price event of AAPL and returns the alerts it queued (and clears them from the
// outbox, as a publisher would).
func (f *fixture) evaluateAAPL(eventID string, price float64, at time.Time) []stockalert.AlertEvent {
	f.t.Helper()
	require.NoError(f.t, f.evaluate.Handle(f.ctx, command.EvaluatePrice{Event: stockalert.PriceEvent{
		EventID: eventID, Ticker: "AAPL", Price: price, Currency: "USD", Time: at,
	}}))
	msgs, alerts := outbox[stockalert.AlertEvent](f, stockalert.TopicAlerts)
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		require.Equal(f.t, string(alerts[i].Email), m.Key, "alerts are keyed by user")
		ids[i] = m.ID
	}
	require.NoError(f.t, f.store.DeleteOutbox(f.ctx, ids))
	return alerts
}

func emails(alerts []stockalert.AlertEvent) []stockalert.Email {
	out := make([]stockalert.Email, len(alerts))
	for i, a := range alerts {
		out[i] = a.Email
	}
	return out
}

var alertCases = []contractCase{
	{"FiringRules/finds exactly the ranges a price is out of", func(t *testing.T, f *fixture) {
		f.registerUser("high@example.com", "AAPL", th(f64(100), nil))
		f.registerUser("low@example.com", "AAPL", th(nil, f64(50)))
		f.registerUser("both@example.com", "AAPL", th(f64(120), f64(80)))
		f.registerUser("none@example.com", "AAPL", th(nil, nil))
		f.registerUser("other@example.com", "MSFT", th(f64(1), nil))
		paused := f.registerUser("paused@example.com", "AAPL", th(f64(1), nil))
		f.linkChat(paused, 55)
		require.NoError(t, f.setPaused.Handle(f.ctx, command.SetPaused{ChatID: 55, Paused: true}))

		for _, c := range []struct {
			price float64
			want  []stockalert.Email
		}{
			{100, nil}, // a price equal to a bound is inside
			{100.01, []stockalert.Email{"high@example.com"}},
			{130, []stockalert.Email{"both@example.com", "high@example.com"}},
			{79.99, []stockalert.Email{"both@example.com"}},
			{49, []stockalert.Email{"both@example.com", "low@example.com"}},
			{90, nil},
		} {
			got, err := f.store.FiringRules(f.ctx, stockalert.Quote{Ticker: "AAPL", Price: c.price, Time: f.clock.Now()})
			require.NoError(t, err)
			var gotEmails []stockalert.Email
			for _, b := range got {
				gotEmails = append(gotEmails, b.Email)
				require.Equal(t, stockalert.DefaultNotifyInterval, b.NotifyInterval)
			}
			require.ElementsMatch(t, c.want, gotEmails, "price %g", c.price)
		}
	}},
	{"MarkEvaluated/an older quote is refused and records nothing; the same or a newer one is taken", func(t *testing.T, f *fixture) {
		t0 := f.clock.Now()
		mark := func(at time.Time) bool {
			var newest bool
			require.NoError(t, f.store.InTx(f.ctx, func(ctx context.Context) error {
				var err error
				newest, err = f.store.MarkEvaluated(ctx, "AAPL", at)
				return err
			}))
			return newest
		}
		require.True(t, mark(t0), "the first quote of a ticker")
		require.True(t, mark(t0), "the same quote again (a redelivery)")
		require.True(t, mark(t0.Add(time.Minute)), "a newer quote")
		require.False(t, mark(t0), "an older quote")
		require.False(t, mark(t0.Add(59*time.Second)), "still older than the newest")
		require.True(t, mark(t0.Add(time.Minute)), "the newest is unchanged by the refusals")
		require.Equal(t, 1, f.count("price_evaluations", "ticker = ?", "AAPL"))
	}},
	{"EvaluatePrice/a late price changes nothing: it neither alerts nor re-arms", func(t *testing.T, f *fixture) {
		r := f.registerUser("lou@example.com", "AAPL", th(f64(100), f64(50)))
		f.linkChat(r, 9002)
		t0 := f.clock.Now()

		require.Empty(t, f.evaluateAAPL("n1", 99, t0.Add(time.Minute)), "the newer price is in range")
		require.Empty(t, f.evaluateAAPL("l1", 101, t0), "a late price out of range raises no alert")
		require.Equal(t, stockalert.Armed, f.mustProfile(r.email).Subscriptions[0].State)

		require.Len(t, f.evaluateAAPL("n2", 101, t0.Add(2*time.Minute)), 1, "a new breach alerts")
		require.Empty(t, f.evaluateAAPL("l2", 99, t0.Add(90*time.Second)), "a late price in range")
		require.Equal(t, stockalert.BreachedAbove, f.mustProfile(r.email).Subscriptions[0].State, "does not re-arm")
		require.Empty(t, f.evaluateAAPL("n3", 102, t0.Add(3*time.Minute)), "so the next price, still out, waits for the interval")
	}},
	{"EvaluatePrice/first breach alerts, staying out waits for the interval, coming back re-arms", func(t *testing.T, f *fixture) {
		r := f.registerUser("pat@example.com", "AAPL", th(f64(100), f64(50)))
		f.linkChat(r, 9001)
		t0 := f.clock.Now()

		alerts := f.evaluateAAPL("p1", 101, t0)
		require.Len(t, alerts, 1)
		a := alerts[0]
		require.Equal(t, stockalert.AlertEventID("p1", f.subID(r.email, "AAPL")), a.EventID)
		require.Equal(t, stockalert.Email("pat@example.com"), a.Email)
		require.Equal(t, int64(9001), *a.TelegramChatID)
		require.Equal(t, stockalert.Above, a.Condition)
		require.Equal(t, 101.0, a.Price)
		require.Equal(t, 100.0, a.Threshold)
		require.True(t, t0.Equal(a.Time))
		sub := f.mustProfile(r.email).Subscriptions[0]
		require.Equal(t, stockalert.BreachedAbove, sub.State)
		require.True(t, t0.Equal(sub.LastAlertedAt))

		require.Empty(t, f.evaluateAAPL("p2", 105, t0.Add(10*time.Minute)), "still out, within the interval")
		require.Len(t, f.evaluateAAPL("p3", 106, t0.Add(time.Hour)), 1, "still out, interval passed")
		require.Empty(t, f.evaluateAAPL("p4", 99, t0.Add(61*time.Minute)), "back in range: nothing to say")
		require.Equal(t, stockalert.Armed, f.mustProfile(r.email).Subscriptions[0].State, "and re-armed")
		require.Len(t, f.evaluateAAPL("p5", 101, t0.Add(62*time.Minute)), 1, "out again: alert at once")
		below := f.evaluateAAPL("p6", 40, t0.Add(63*time.Minute))
		require.Len(t, below, 1, "jumping to the other side alerts at once")
		require.Equal(t, stockalert.Below, below[0].Condition)
		require.Equal(t, 50.0, below[0].Threshold)
	}},
	{"EvaluatePrice/honours each user's interval and pause", func(t *testing.T, f *fixture) {
		quick := f.registerUser("quick@example.com", "AAPL", th(f64(100), nil))
		slow := f.registerUser("slow@example.com", "AAPL", th(f64(100), nil))
		f.linkChat(quick, 1)
		f.linkChat(slow, 2)
		require.NoError(t, f.setInterval.Handle(f.ctx, command.SetNotifyInterval{ChatID: 1, Seconds: 60}))
		t0 := f.clock.Now()
		require.ElementsMatch(t, []stockalert.Email{stockalert.Email(quick.email), stockalert.Email(slow.email)}, emails(f.evaluateAAPL("a", 110, t0)))
		require.Equal(t, []stockalert.Email{"quick@example.com"}, emails(f.evaluateAAPL("b", 110, t0.Add(time.Minute))))
		require.NoError(t, f.setPaused.Handle(f.ctx, command.SetPaused{ChatID: 1, Paused: true}))
		require.Empty(t, f.evaluateAAPL("c", 110, t0.Add(5*time.Minute)))
		require.NoError(t, f.setPaused.Handle(f.ctx, command.SetPaused{ChatID: 1, Paused: false}))
		require.Equal(t, []stockalert.Email{"quick@example.com"}, emails(f.evaluateAAPL("d", 110, t0.Add(6*time.Minute))),
			"a resumed user still out of range hears at once")
	}},
	{"EvaluatePrice/a redelivered event never raises a different alert", func(t *testing.T, f *fixture) {
		f.registerUser("quinn@example.com", "AAPL", th(f64(100), nil))
		eager := f.registerUser("ray@example.com", "AAPL", th(f64(100), nil))
		f.linkChat(eager, 31)
		require.NoError(t, f.setInterval.Handle(f.ctx, command.SetNotifyInterval{ChatID: 31, Seconds: 0}))
		t0 := f.clock.Now()
		first := f.evaluateAAPL("same", 120, t0)
		require.ElementsMatch(t, []stockalert.Email{"quinn@example.com", "ray@example.com"}, emails(first))
		again := f.evaluateAAPL("same", 120, t0)
		// Within quinn's interval: nothing. ray wants every breach: the alert again, with the same id, so
		// the notifier (which never sends an id twice) drops it.
		require.Len(t, again, 1)
		require.Equal(t, stockalert.Email("ray@example.com"), again[0].Email)
		for _, a := range first {
			if a.Email == again[0].Email {
				require.Equal(t, a.EventID, again[0].EventID)
			}
		}
	}},
	{"EvaluatePrice/rejects malformed events and writes nothing", func(t *testing.T, f *fixture) {
		f.registerUser("rae@example.com", "AAPL", th(f64(100), nil))
		t0 := f.clock.Now()
		for _, c := range []struct {
			ev    stockalert.PriceEvent
			field string
		}{
			{stockalert.PriceEvent{Ticker: "AAPL", Price: 120, Time: t0}, "event_id"},
			{stockalert.PriceEvent{EventID: "x", Ticker: "", Price: 120, Time: t0}, "ticker"},
			{stockalert.PriceEvent{EventID: "x", Ticker: "AAPL", Price: 0, Time: t0}, "price"},
			{stockalert.PriceEvent{EventID: "x", Ticker: "AAPL", Price: 120}, "time"},
		} {
			requireField(t, f.evaluate.Handle(f.ctx, command.EvaluatePrice{Event: c.ev}), c.field)
		}
		require.Zero(t, f.count("outbox", ""))
		require.Equal(t, stockalert.Armed, f.mustProfile("rae@example.com").Subscriptions[0].State)
	}},
	{"Outbox/pending messages per topic, oldest first, removed once published", func(t *testing.T, f *fixture) {
		require.NoError(t, f.store.AppendOutbox(f.ctx,
			stockalert.OutboxMessage{Topic: "a", Key: "k1", Value: []byte("1")},
			stockalert.OutboxMessage{Topic: "b", Key: "k2", Value: []byte("2")},
			stockalert.OutboxMessage{Topic: "a", Key: "k3", Value: []byte("3")}))
		got, err := f.store.PendingOutbox(f.ctx, "a", 10)
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, []byte("1"), got[0].Value)
		require.Equal(t, "k3", got[1].Key)
		first, err := f.store.PendingOutbox(f.ctx, "a", 1)
		require.NoError(t, err)
		require.Equal(t, got[:1], first)
		require.NoError(t, f.store.DeleteOutbox(f.ctx, []int64{got[0].ID}))
		got, err = f.store.PendingOutbox(f.ctx, "a", 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, 1, f.count("outbox", "topic = 'b'"))
	}},
	{"RecordNotification/logs states and counts attempts", func(t *testing.T, f *fixture) {
		r := f.registerUser("sam@example.com", "AAPL", th(f64(1), nil))
		uid := f.mustProfile(r.email).UserID
		chat := int64(31)
		alert := stockalert.AlertEvent{EventID: "n1", Email: "sam@example.com", Ticker: "AAPL", Condition: stockalert.Above, Price: 2, Threshold: 1}
		_, err := f.store.DeliveryState(f.ctx, "n1")
		requireIs(t, err, stockalert.ErrNotFound)
		require.NoError(t, f.recordNotif.Handle(f.ctx, command.RecordNotification{Alert: alert, UserID: uid, ChatID: &chat,
			State: stockalert.Failed, Error: "timeout"}))
		st, err := f.store.DeliveryState(f.ctx, "n1")
		require.NoError(t, err)
		require.Equal(t, stockalert.Failed, st)
		require.NoError(t, f.recordNotif.Handle(f.ctx, command.RecordNotification{Alert: alert, UserID: uid, ChatID: &chat, State: stockalert.Sent}))
		log, err := f.store.Notifications(f.ctx, "sam@example.com")
		require.NoError(t, err)
		require.Len(t, log, 1)
		require.Equal(t, stockalert.Sent, log[0].State)
		require.Equal(t, 2, log[0].Attempts)
		require.Equal(t, chat, *log[0].ChatID)
		requireField(t, f.recordNotif.Handle(f.ctx, command.RecordNotification{Alert: alert, UserID: uid, State: "lost"}), "state")
	}},
}

func (f *fixture) subID(email, t string) int64 {
	f.t.Helper()
	var id int64
	require.NoError(f.t, f.store.DB().QueryRowContext(f.ctx,
		`SELECT s.id FROM alert_rules s JOIN users u ON u.id = s.user_id WHERE u.email = ? AND s.ticker = ?`, email, t).Scan(&id))
	return id
}
