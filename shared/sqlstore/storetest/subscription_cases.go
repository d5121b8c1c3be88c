package storetest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

func str(s string) *string { return &s }

var subscriptionCases = []contractCase{
	{"UpdateUser/sets, replaces and clears thresholds", func(t *testing.T, f *fixture) {
		r := f.registerUser("dan@example.com", "AAPL", th(f64(200), f64(100)))
		require.NoError(t, f.update.Handle(f.ctx, command.UpdateUser{Email: r.email,
			High: command.Change[float64]{Set: true, Value: f64(250)}}))
		got := f.mustProfile(r.email).Subscriptions[0].Thresholds
		require.Equal(t, 250.0, *got.High)
		require.Equal(t, 100.0, *got.Low, "a field not sent is left alone")

		require.NoError(t, f.update.Handle(f.ctx, command.UpdateUser{Email: r.email,
			Low: command.Change[float64]{Set: true, Value: nil}}))
		got = f.mustProfile(r.email).Subscriptions[0].Thresholds
		require.Nil(t, got.Low, "null clears")
		require.Equal(t, 250.0, *got.High)
	}},
	{"UpdateUser/a resulting range with high <= low is refused and changes nothing", func(t *testing.T, f *fixture) {
		r := f.registerUser("erin@example.com", "AAPL", th(f64(200), f64(100)))
		err := f.update.Handle(f.ctx, command.UpdateUser{Email: r.email, Low: command.Change[float64]{Set: true, Value: f64(300)}})
		requireField(t, err, "high_value")
		err = f.update.Handle(f.ctx, command.UpdateUser{Email: r.email, Ticker: str("bad ticker")})
		requireField(t, err, "ticker")
		got := f.mustProfile(r.email).Subscriptions[0]
		require.Equal(t, stockalert.Ticker("AAPL"), got.Ticker)
		require.Equal(t, 100.0, *got.Thresholds.Low)
	}},
	{"UpdateUser/changing the ticker moves the subscription with its thresholds", func(t *testing.T, f *fixture) {
		r := f.registerUser("finn@example.com", "AAPL", th(f64(200), nil))
		require.NoError(t, f.update.Handle(f.ctx, command.UpdateUser{Email: r.email, Ticker: str("msft")}))
		subs := f.mustProfile(r.email).Subscriptions
		require.Len(t, subs, 1)
		require.Equal(t, stockalert.Ticker("MSFT"), subs[0].Ticker)
		require.Equal(t, 200.0, *subs[0].Thresholds.High)
		ts, err := f.tickers.Handle(f.ctx, query.DistinctTickers{})
		require.NoError(t, err)
		require.Equal(t, []stockalert.Ticker{"MSFT"}, ts)
	}},
	{"UpdateUser/an unchanged subscription keeps its alert state", func(t *testing.T, f *fixture) {
		r := f.registerUser("gil@example.com", "AAPL", th(f64(100), nil))
		f.evaluateAAPL("e1", 150, f.clock.Now())
		require.Equal(t, stockalert.BreachedAbove, f.mustProfile(r.email).Subscriptions[0].State)
		require.NoError(t, f.update.Handle(f.ctx, command.UpdateUser{Email: r.email, Ticker: str("AAPL"),
			High: command.Change[float64]{Set: true, Value: f64(100)}}))
		require.Equal(t, stockalert.BreachedAbove, f.mustProfile(r.email).Subscriptions[0].State)
		require.NoError(t, f.update.Handle(f.ctx, command.UpdateUser{Email: r.email, High: command.Change[float64]{Set: true, Value: f64(120)}}))
		require.Equal(t, stockalert.Armed, f.mustProfile(r.email).Subscriptions[0].State, "new thresholds re-arm")
	}},
	{"UpdateUser/users with several tickers or unknown users are refused", func(t *testing.T, f *fixture) {
		r := f.registerUser("hal@example.com", "AAPL", th(nil, nil))
		require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "MSFT"}))
		err := f.update.Handle(f.ctx, command.UpdateUser{Email: r.email, Ticker: str("GOOG")})
		requireIs(t, err, stockalert.ErrConflict)
		err = f.update.Handle(f.ctx, command.UpdateUser{Email: "nobody@example.com", Ticker: str("GOOG")})
		requireIs(t, err, stockalert.ErrNotFound)
		require.Len(t, f.mustProfile(r.email).Subscriptions, 2)
	}},
	{"UpdateUser/a user with no subscription gets one, and needs a ticker for it", func(t *testing.T, f *fixture) {
		r := f.registerUser("ivy@example.com", "AAPL", th(nil, nil))
		require.NoError(t, f.unsubscribe.Handle(f.ctx, command.Unsubscribe{Email: r.email, Ticker: "AAPL"}))
		err := f.update.Handle(f.ctx, command.UpdateUser{Email: r.email, High: command.Change[float64]{Set: true, Value: f64(5)}})
		requireField(t, err, "ticker")
		require.NoError(t, f.update.Handle(f.ctx, command.UpdateUser{Email: r.email, Ticker: str("NVDA"),
			High: command.Change[float64]{Set: true, Value: f64(5)}}))
		subs := f.mustProfile(r.email).Subscriptions
		require.Len(t, subs, 1)
		require.Equal(t, stockalert.Ticker("NVDA"), subs[0].Ticker)
	}},
	{"Subscribe/adds, replaces (PUT semantics) and refuses bad input", func(t *testing.T, f *fixture) {
		r := f.registerUser("jo@example.com", "AAPL", th(f64(200), nil))
		require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "brk-b", Thresholds: th(nil, f64(400))}))
		require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "AAPL", Thresholds: th(nil, f64(90))}))
		subs := f.mustProfile(r.email).Subscriptions
		require.Len(t, subs, 2)
		require.Equal(t, stockalert.Ticker("AAPL"), subs[0].Ticker)
		require.Nil(t, subs[0].Thresholds.High, "PUT replaces: an absent bound is cleared")
		require.Equal(t, 90.0, *subs[0].Thresholds.Low)
		require.Equal(t, stockalert.Ticker("BRK-B"), subs[1].Ticker)

		requireField(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "AAPL", Thresholds: th(f64(1), f64(2))}), "high_value")
		requireIs(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: "nobody@example.com", Ticker: "AAPL"}), stockalert.ErrNotFound)
		require.Equal(t, 90.0, *f.mustProfile(r.email).Subscriptions[0].Thresholds.Low)
	}},
	{"Subscribe/a user watches a bounded number of tickers", func(t *testing.T, f *fixture) {
		r := f.registerUser("kim@example.com", "T0", th(nil, nil))
		for i := 1; i < command.MaxSubscriptionsPerUser; i++ {
			require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: fmt.Sprintf("T%d", i)}))
		}
		requireField(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "ONEMORE"}), "ticker")
		require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "T0", Thresholds: th(f64(9), nil)}),
			"replacing an existing subscription is still allowed")
		require.Len(t, f.mustProfile(r.email).Subscriptions, command.MaxSubscriptionsPerUser)
	}},
	{"Unsubscribe/removes one ticker; unknown ones are not found", func(t *testing.T, f *fixture) {
		r := f.registerUser("lee@example.com", "AAPL", th(nil, nil))
		require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "MSFT"}))
		require.NoError(t, f.unsubscribe.Handle(f.ctx, command.Unsubscribe{Email: r.email, Ticker: "aapl"}))
		requireIs(t, f.unsubscribe.Handle(f.ctx, command.Unsubscribe{Email: r.email, Ticker: "AAPL"}), stockalert.ErrNotFound)
		requireIs(t, f.unsubscribe.Handle(f.ctx, command.Unsubscribe{Email: "x@example.com", Ticker: "MSFT"}), stockalert.ErrNotFound)
		require.Equal(t, []stockalert.Ticker{"MSFT"}, f.mustProfile(r.email).Tickers())
	}},
	{"DistinctTickers/each subscribed ticker once, in order", func(t *testing.T, f *fixture) {
		ts, err := f.tickers.Handle(f.ctx, query.DistinctTickers{})
		require.NoError(t, err)
		require.Empty(t, ts)
		f.registerUser("a@example.com", "MSFT", th(nil, nil))
		f.registerUser("b@example.com", "AAPL", th(nil, nil))
		f.registerUser("c@example.com", "MSFT", th(nil, nil))
		ts, err = f.tickers.Handle(f.ctx, query.DistinctTickers{})
		require.NoError(t, err)
		require.Equal(t, []stockalert.Ticker{"AAPL", "MSFT"}, ts)
	}},
}
