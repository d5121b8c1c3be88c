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
	{"Subscribe/a user has a bounded number of rules, ranges and other kinds alike", func(t *testing.T, f *fixture) {
		const limit = 4
		subscribe := command.NewSubscribeHandler(f.store, nil, nil, command.MaxRulesPerUser(limit))
		create := command.NewCreateRuleHandler(f.store, f.clock.Now, nil, nil, command.MaxRulesPerUser(limit))
		update := command.NewUpdateUserHandler(f.store, nil, nil, command.MaxRulesPerUser(limit))
		r := f.registerUser("kim@example.com", "T0", th(nil, nil))
		require.NoError(t, create.Handle(f.ctx, command.CreateRule{Email: r.email,
			Rule: stockalert.Rule{Ticker: "T0", Kind: stockalert.KindAbove, Level: 5}}))
		for i := 1; i < limit-1; i++ {
			require.NoError(t, subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: fmt.Sprintf("T%d", i)}))
		}
		requireField(t, subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "ONEMORE"}), "ticker")
		requireField(t, create.Handle(f.ctx, command.CreateRule{Email: r.email,
			Rule: stockalert.Rule{Ticker: "T0", Kind: stockalert.KindBelow, Level: 1}}), "kind")
		require.NoError(t, subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "T0", Thresholds: th(f64(9), nil)}),
			"replacing an existing range is still allowed")
		require.Equal(t, limit, f.count("alert_rules", "1 = 1"))

		// A user whose only rules are not ranges: PATCH creating the range counts them too.
		o := f.registerUser("ola@example.com", "", th(nil, nil))
		for i := range limit {
			require.NoError(t, create.Handle(f.ctx, command.CreateRule{Email: o.email,
				Rule: stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: float64(100 + i)}}))
		}
		requireField(t, update.Handle(f.ctx, command.UpdateUser{Email: o.email, Ticker: str("AAPL")}), "ticker")
		require.Equal(t, limit, f.count("alert_rules", "user_id = (SELECT id FROM users WHERE email = ?)", o.email))
	}},
	{"Unsubscribe/removes every rule of one ticker; a ticker without rules is not found", func(t *testing.T, f *fixture) {
		r := f.registerUser("lee@example.com", "AAPL", th(nil, nil))
		require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "MSFT"}))
		create := command.NewCreateRuleHandler(f.store, f.clock.Now, nil, nil)
		for _, rule := range []stockalert.Rule{
			{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 200},
			{Ticker: "AAPL", Kind: stockalert.KindChangePct, Percent: 3},
			{Ticker: "NVDA", Kind: stockalert.KindBelow, Level: 90},
		} {
			require.NoError(t, create.Handle(f.ctx, command.CreateRule{Email: r.email, Rule: rule}))
		}
		require.NoError(t, f.unsubscribe.Handle(f.ctx, command.Unsubscribe{Email: r.email, Ticker: "aapl"}))
		require.Zero(t, f.count("alert_rules", "ticker = 'AAPL'"), "the range and the other rules of AAPL are gone")
		err := f.unsubscribe.Handle(f.ctx, command.Unsubscribe{Email: r.email, Ticker: "AAPL"})
		requireIs(t, err, stockalert.ErrNotFound)
		var nf *stockalert.NotFoundError
		require.ErrorAs(t, err, &nf)
		require.Equal(t, "no rule on AAPL", nf.Reason)
		require.NoError(t, f.unsubscribe.Handle(f.ctx, command.Unsubscribe{Email: r.email, Ticker: "NVDA"}),
			"a ticker with rules but no range is removed too")
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
