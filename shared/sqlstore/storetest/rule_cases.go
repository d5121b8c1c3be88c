package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// ruleUseCases are the rules API's use cases over one fixture's store.
type ruleUseCases struct {
	create       command.CreateRuleHandler
	remove       command.DeleteRuleHandler
	rules        query.RulesHandler
	history      query.AlertHistoryHandler
	latestPrices query.LatestPricesHandler
}

func (f *fixture) ruleUseCases() ruleUseCases {
	fresh := query.Freshness{Now: f.clock.Now}
	return ruleUseCases{
		create:       command.NewCreateRuleHandler(f.store, f.clock.Now, nil, nil),
		remove:       command.NewDeleteRuleHandler(f.store, nil, nil),
		rules:        query.NewRulesHandler(f.store, fresh, nil, nil),
		history:      query.NewAlertHistoryHandler(f.store, nil, nil),
		latestPrices: query.NewLatestPricesHandler(f.store, fresh, nil, nil),
	}
}

// createRule creates rule for email and returns it as stored, failing the test on error.
func (u ruleUseCases) createRule(t *testing.T, f *fixture, email string, rule stockalert.Rule) stockalert.Rule {
	t.Helper()
	var created stockalert.Rule
	require.NoError(t, u.create.Handle(f.ctx, command.CreateRule{Email: email, Rule: rule, Created: &created}))
	require.NotZero(t, created.ID)
	return created
}

func (f *fixture) recordPrice(ticker string, price float64, at time.Time) {
	f.t.Helper()
	require.NoError(f.t, f.recordPrices.Handle(f.ctx, command.RecordPrices{Quotes: []stockalert.Quote{
		{Ticker: stockalert.Ticker(ticker), Price: price, Currency: "USD", Time: at}}}))
}

var ruleCases = []contractCase{
	{"CreateRule/stores each kind with its derived columns and lists it back", func(t *testing.T, f *fixture) {
		u := f.ruleUseCases()
		r := f.registerUser("rae@example.com", "AAPL", th(f64(250), nil))
		expires := f.clock.Now().Add(48 * time.Hour)
		above := u.createRule(t, f, r.email, stockalert.Rule{Ticker: "aapl", Kind: stockalert.KindAbove, Level: 200, Note: "sell half"})
		below := u.createRule(t, f, r.email, stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindBelow, Level: 150, Repeat: stockalert.RepeatOnce})
		change := u.createRule(t, f, r.email, stockalert.Rule{Ticker: "MSFT", Kind: stockalert.KindChangePct, Percent: 3,
			Direction: stockalert.DirectionDown})
		move := u.createRule(t, f, r.email, stockalert.Rule{Ticker: "NVDA", Kind: stockalert.KindMovePct, Percent: 5,
			Reference: 120, ExpiresAt: expires})
		require.Equal(t, stockalert.Ticker("AAPL"), above.Ticker)
		require.Equal(t, stockalert.RepeatRearm, above.Repeat, "the default repeat is filled in")
		require.Equal(t, stockalert.DirectionEither, move.Direction, "the default direction is filled in")

		require.Equal(t, 1, f.count("alert_rules", "id = ? AND high_value = 200 AND low_value IS NULL AND range_ticker IS NULL", above.ID))
		require.Equal(t, 1, f.count("alert_rules", "id = ? AND low_value = 150 AND high_value IS NULL AND repeat_mode = 'once'", below.ID))
		require.Equal(t, 1, f.count("alert_rules", "id = ? AND percent = 3 AND direction = 'down' AND high_value IS NULL", change.ID))
		require.Equal(t, 1, f.count("alert_rules", "id = ? AND move_up_level = 126 AND move_down_level = 114 AND expires_at = ?",
			move.ID, expires.UnixMilli()))

		views, err := u.rules.Handle(f.ctx, query.Rules{Email: r.email})
		require.NoError(t, err)
		require.Len(t, views, 5, "the registration's range is one of the rules")
		require.Equal(t, stockalert.KindRange, views[0].Rule.Kind)
		require.Equal(t, 250.0, *views[0].Rule.Thresholds.High)
		require.Equal(t, above.ID, views[1].Rule.ID)
		require.Equal(t, 200.0, views[1].Rule.Level)
		require.Equal(t, "sell half", views[1].Rule.Note)
		require.Equal(t, 150.0, views[2].Rule.Level)
		require.Equal(t, stockalert.RepeatOnce, views[2].Rule.Repeat)
		require.Equal(t, stockalert.KindChangePct, views[3].Rule.Kind)
		require.Equal(t, stockalert.DirectionDown, views[3].Rule.Direction)
		require.Equal(t, 120.0, views[4].Rule.Reference)
		require.True(t, views[4].Rule.ExpiresAt.Equal(expires))
		for _, v := range views {
			require.Equal(t, stockalert.RuleArmed, v.State)
			require.Nil(t, v.Quote, "no price recorded yet")
		}

		only, err := u.rules.Handle(f.ctx, query.Rules{Email: r.email, Ticker: "msft"})
		require.NoError(t, err)
		require.Len(t, only, 1)
		require.Equal(t, change.ID, only[0].Rule.ID)
		_, err = u.rules.Handle(f.ctx, query.Rules{Email: r.email, Ticker: "not a ticker"})
		requireField(t, err, "ticker")
	}},
	{"CreateRule/bad input names the field and writes nothing", func(t *testing.T, f *fixture) {
		u := f.ruleUseCases()
		r := f.registerUser("sam@example.com", "", th(nil, nil))
		for field, rule := range map[string]stockalert.Rule{
			"kind":       {Ticker: "AAPL", Kind: "sideways"},
			"level":      {Ticker: "AAPL", Kind: stockalert.KindAbove, Level: -1},
			"percent":    {Ticker: "AAPL", Kind: stockalert.KindChangePct, Percent: 1001},
			"direction":  {Ticker: "AAPL", Kind: stockalert.KindChangePct, Percent: 2, Direction: "sideways"},
			"reference":  {Ticker: "AAPL", Kind: stockalert.KindMovePct, Percent: 2},
			"repeat":     {Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 1, Repeat: "twice"},
			"expires_at": {Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 1, ExpiresAt: f.clock.Now()},
			"ticker":     {Ticker: "A B", Kind: stockalert.KindAbove, Level: 1},
			"high_value": {Ticker: "AAPL", Kind: stockalert.KindRange},
		} {
			err := u.create.Handle(f.ctx, command.CreateRule{Email: r.email, Rule: rule})
			requireField(t, err, field)
		}
		require.Zero(t, f.count("alert_rules", "1 = 1"))
		requireIs(t, u.create.Handle(f.ctx, command.CreateRule{Email: "nobody@example.com",
			Rule: stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 1}}), stockalert.ErrNotFound)
	}},
	{"CreateRule/move_pct takes the latest recorded price as its reference", func(t *testing.T, f *fixture) {
		u := f.ruleUseCases()
		r := f.registerUser("tia@example.com", "", th(nil, nil))
		f.recordPrice("NVDA", 100, f.clock.Now().Add(-2*time.Minute))
		f.recordPrice("NVDA", 120, f.clock.Now().Add(-time.Minute))
		move := u.createRule(t, f, r.email, stockalert.Rule{Ticker: "NVDA", Kind: stockalert.KindMovePct, Percent: 10,
			Direction: stockalert.DirectionUp})
		require.Equal(t, 120.0, move.Reference)
		require.Equal(t, 1, f.count("alert_rules", "id = ? AND reference = 120 AND move_up_level = 132 AND move_down_level IS NULL", move.ID))
	}},
	{"CreateRule/a second range on a ticker is a conflict naming PUT", func(t *testing.T, f *fixture) {
		u := f.ruleUseCases()
		r := f.registerUser("uma@example.com", "AAPL", th(nil, f64(100)))
		err := u.create.Handle(f.ctx, command.CreateRule{Email: r.email,
			Rule: stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindRange, Thresholds: th(f64(300), nil)}})
		var conflict *stockalert.ConflictError
		require.ErrorAs(t, err, &conflict)
		require.Equal(t, "ticker", conflict.Field)
		require.Contains(t, conflict.Reason, "PUT /users/{email}/tickers/{ticker}")
		require.Equal(t, 100.0, *f.mustProfile(r.email).Subscriptions[0].Thresholds.Low, "the range is unchanged")

		rng := u.createRule(t, f, r.email, stockalert.Rule{Ticker: "MSFT", Kind: stockalert.KindRange, Thresholds: th(f64(500), nil)})
		require.Equal(t, []stockalert.Ticker{"AAPL", "MSFT"}, f.mustProfile(r.email).Tickers(), "a new range is the ticker's range")
		require.Equal(t, 1, f.count("alert_rules", "id = ? AND range_ticker = 'MSFT'", rng.ID))
	}},
	{"CreateRule/concurrent creates cannot pass the limit", func(t *testing.T, f *fixture) {
		const limit = 3
		create := command.NewCreateRuleHandler(f.store, f.clock.Now, nil, nil, command.MaxRulesPerUser(limit))
		r := f.registerUser("vic@example.com", "", th(nil, nil))
		errs := make(chan error, 8)
		for i := range 8 {
			go func() {
				errs <- create.Handle(f.ctx, command.CreateRule{Email: r.email,
					Rule: stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: float64(100 + i)}})
			}()
		}
		ok := 0
		for range 8 {
			err := <-errs
			if err == nil {
				ok++
				continue
			}
			requireField(t, err, "kind")
		}
		require.Equal(t, limit, ok)
		require.Equal(t, limit, f.count("alert_rules", "1 = 1"))
	}},
	{"DeleteRule/removes the owner's rule; others', malformed and deleted ids are not found", func(t *testing.T, f *fixture) {
		u := f.ruleUseCases()
		a := f.registerUser("wes@example.com", "", th(nil, nil))
		b := f.registerUser("xia@example.com", "", th(nil, nil))
		ra := u.createRule(t, f, a.email, stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 1})
		rb := u.createRule(t, f, b.email, stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 1})
		for _, id := range []string{stockalert.RuleIDString(rb.ID), "x", "-1", "01", ""} {
			err := u.remove.Handle(f.ctx, command.DeleteRule{Email: a.email, RuleID: id})
			var nf *stockalert.NotFoundError
			require.ErrorAs(t, err, &nf, "id %q", id)
			require.Equal(t, "no such rule", nf.Reason)
		}
		require.NoError(t, u.remove.Handle(f.ctx, command.DeleteRule{Email: a.email, RuleID: stockalert.RuleIDString(ra.ID)}))
		requireIs(t, u.remove.Handle(f.ctx, command.DeleteRule{Email: a.email, RuleID: stockalert.RuleIDString(ra.ID)}), stockalert.ErrNotFound)
		require.Equal(t, 1, f.count("alert_rules", "id = ?", rb.ID), "the other user's rule stays")
	}},
	{"Rules/state, last alert and the ticker's latest price with its day change", func(t *testing.T, f *fixture) {
		u := f.ruleUseCases()
		r := f.registerUser("yan@example.com", "AAPL", th(f64(100), nil))
		once := u.createRule(t, f, r.email, stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindBelow, Level: 50, Repeat: stockalert.RepeatOnce})
		expiring := u.createRule(t, f, r.email, stockalert.Rule{Ticker: "MSFT", Kind: stockalert.KindAbove, Level: 50,
			ExpiresAt: f.clock.Now().Add(time.Hour)})
		at := f.clock.Now().Add(-time.Minute)
		f.recordPrice("AAPL", 150, at)
		_, err := f.store.DB().ExecContext(f.ctx, `UPDATE prices SET previous_close = 120 WHERE ticker = 'AAPL'`)
		require.NoError(t, err)
		_, err = f.store.DB().ExecContext(f.ctx, `UPDATE alert_rules SET alert_state = 'above', last_alerted_at = ?, breached_since = ?
			WHERE kind = 'range'`, at.UnixMilli(), at.UnixMilli())
		require.NoError(t, err)
		_, err = f.store.DB().ExecContext(f.ctx, `UPDATE alert_rules SET done_at = ?, last_alerted_at = ? WHERE id = ?`,
			at.UnixMilli(), at.UnixMilli(), once.ID)
		require.NoError(t, err)
		f.clock.Advance(2 * time.Hour) // the MSFT rule has expired

		views, err := u.rules.Handle(f.ctx, query.Rules{Email: r.email})
		require.NoError(t, err)
		require.Len(t, views, 3)
		require.Equal(t, stockalert.RuleTriggered, views[0].State)
		require.True(t, views[0].Rule.LastAlertedAt.Equal(at))
		require.NotNil(t, views[0].Quote)
		require.Equal(t, 150.0, views[0].Quote.Price)
		require.Equal(t, "USD", views[0].Quote.Currency)
		pct, ok := views[0].Quote.DayChangePercent()
		require.True(t, ok)
		require.InDelta(t, 25.0, pct, 1e-9)
		require.Equal(t, once.ID, views[1].Rule.ID)
		require.Equal(t, stockalert.RuleDone, views[1].State, "a once rule that fired is done")
		require.Equal(t, expiring.ID, views[2].Rule.ID)
		require.Equal(t, stockalert.RuleDone, views[2].State, "an expired rule is done")
		require.Nil(t, views[2].Quote)

		none, err := u.rules.Handle(f.ctx, query.Rules{Email: r.email, Ticker: "IBM"})
		require.NoError(t, err)
		require.Empty(t, none)
	}},
	{"LatestPrices/every live ticker of the user, unpriced ones apart", func(t *testing.T, f *fixture) {
		u := f.ruleUseCases()
		r := f.registerUser("zed@example.com", "AAPL", th(nil, nil))
		u.createRule(t, f, r.email, stockalert.Rule{Ticker: "MSFT", Kind: stockalert.KindAbove, Level: 1})
		u.createRule(t, f, r.email, stockalert.Rule{Ticker: "NVDA", Kind: stockalert.KindAbove, Level: 1})
		done := u.createRule(t, f, r.email, stockalert.Rule{Ticker: "IBM", Kind: stockalert.KindAbove, Level: 1, Repeat: stockalert.RepeatOnce})
		u.createRule(t, f, r.email, stockalert.Rule{Ticker: "ORCL", Kind: stockalert.KindAbove, Level: 1, ExpiresAt: f.clock.Now().Add(time.Minute)})
		other := f.registerUser("ann@example.com", "TSLA", th(nil, nil))
		_ = other
		_, err := f.store.DB().ExecContext(f.ctx, `UPDATE alert_rules SET done_at = 1 WHERE id = ?`, done.ID)
		require.NoError(t, err)
		for _, tk := range []string{"AAPL", "NVDA", "IBM", "ORCL", "TSLA"} {
			f.recordPrice(tk, 10, f.clock.Now().Add(-time.Minute))
		}
		f.clock.Advance(time.Minute) // ORCL's rule expires

		got, err := u.latestPrices.Handle(f.ctx, query.LatestPrices{Email: r.email})
		require.NoError(t, err)
		var priced []stockalert.Ticker
		for _, p := range got.Prices {
			priced = append(priced, p.Ticker)
		}
		require.Equal(t, []stockalert.Ticker{"AAPL", "NVDA"}, priced)
		require.Equal(t, []stockalert.Ticker{"MSFT"}, got.Unpriced)
	}},
}
