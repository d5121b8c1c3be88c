package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// addRule registers email (if needed) and stores r for them, returning the rule's id.
func (f *fixture) addRule(email string, r stockalert.Rule) int64 {
	f.t.Helper()
	if _, err := f.store.UserByEmail(f.ctx, stockalert.Email(email)); err != nil {
		f.registerUser(email, "", th(nil, nil))
	}
	u, err := f.store.UserByEmail(f.ctx, stockalert.Email(email))
	require.NoError(f.t, err)
	r.UserID, r.CreatedAt = u.ID, f.clock.Now()
	require.NoError(f.t, r.Validate(f.clock.Now()))
	id, err := f.store.InsertRule(f.ctx, r.Normalized())
	require.NoError(f.t, err)
	return id
}

// evaluate handles a price event (previous close 0: unknown) and returns the alerts it queued, taking
// them off the outbox.
func (f *fixture) evaluatePrice(eventID, ticker string, price, previousClose float64, at time.Time) []stockalert.AlertEvent {
	f.t.Helper()
	q := stockalert.Quote{Ticker: stockalert.Ticker(ticker), Price: price, Currency: "USD", Time: at, PreviousClose: previousClose}
	require.NoError(f.t, f.evaluate.Handle(f.ctx, command.EvaluatePrice{Event: stockalert.NewPriceEvent(eventID, q)}))
	msgs, alerts := outbox[stockalert.AlertEvent](f, stockalert.TopicAlerts)
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	require.NoError(f.t, f.store.DeleteOutbox(f.ctx, ids))
	return alerts
}

// ruleIDs returns the rule ids the alerts name, in order.
func ruleIDs(alerts []stockalert.AlertEvent) []string {
	out := make([]string, len(alerts))
	for i, a := range alerts {
		out[i] = a.RuleID
	}
	return out
}

// ruleState reads a rule's stored state fields.
func (f *fixture) ruleState(id int64) (state string, since, done time.Time) {
	f.t.Helper()
	var s, d *int64
	require.NoError(f.t, f.store.DB().QueryRowContext(f.ctx,
		`SELECT alert_state, breached_since, done_at FROM alert_rules WHERE id = ?`, id).Scan(&state, &s, &d))
	if s != nil {
		since = time.UnixMilli(*s).UTC()
	}
	if d != nil {
		done = time.UnixMilli(*d).UTC()
	}
	return state, since, done
}

var ruleEvalCases = []contractCase{
	{"EvaluatePrice/above and below: a price at the level is not a breach, past it and across a gap is", func(t *testing.T, f *fixture) {
		up := f.addRule("ann@example.com", stockalert.Rule{Ticker: "NVDA", Kind: stockalert.KindAbove, Level: 200})
		down := f.addRule("ann@example.com", stockalert.Rule{Ticker: "NVDA", Kind: stockalert.KindBelow, Level: 100})
		t0 := f.clock.Now()
		require.Empty(t, f.evaluatePrice("e1", "NVDA", 200, 0, t0), "exactly at the above level")
		require.Empty(t, f.evaluatePrice("e2", "NVDA", 100, 0, t0.Add(time.Minute)), "exactly at the below level")
		gap := f.evaluatePrice("e3", "NVDA", 260, 0, t0.Add(2*time.Minute))
		require.Len(t, gap, 1, "a gap over the level fires once")
		require.Equal(t, stockalert.RuleIDString(up), gap[0].RuleID)
		require.Equal(t, stockalert.KindAbove, gap[0].Kind)
		require.Equal(t, stockalert.Above, gap[0].Condition)
		require.Equal(t, 200.0, gap[0].Threshold, "the level, not the price, is the threshold")
		require.Nil(t, gap[0].BreachedSince, "a first breach is not a repeat")
		fall := f.evaluatePrice("e4", "NVDA", 40, 0, t0.Add(3*time.Minute))
		require.Equal(t, []string{stockalert.RuleIDString(down)}, ruleIDs(fall), "a gap down past the other rule")
		require.Equal(t, 100.0, fall[0].Threshold)
		state, _, _ := f.ruleState(up)
		require.Equal(t, "armed", state, "the above rule re-armed when the price fell back")
	}},
	{"EvaluatePrice/several rules of one user on one ticker fire independently", func(t *testing.T, f *fixture) {
		a := f.addRule("bo@example.com", stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 200})
		b := f.addRule("bo@example.com", stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 210})
		f.registerUser("other@example.com", "AAPL", th(f64(205), nil))
		t0 := f.clock.Now()
		require.Equal(t, []string{stockalert.RuleIDString(a)}, ruleIDs(f.evaluatePrice("e1", "AAPL", 201, 0, t0)))
		got := f.evaluatePrice("e2", "AAPL", 215, 0, t0.Add(time.Minute))
		require.Len(t, got, 2, "the 210 rule and the other user's range; the 200 rule waits for the interval")
		require.Contains(t, ruleIDs(got), stockalert.RuleIDString(b))
	}},
	{"EvaluatePrice/one event marks rules on both sides, repeats and once rules, each as its own", func(t *testing.T, f *fixture) {
		repeat := f.addRule("ed@example.com", stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 200})
		once := f.addRule("ed@example.com", stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 205, Repeat: stockalert.RepeatOnce})
		fall := f.addRule("ed@example.com", stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindChangePct, Percent: 3, Direction: stockalert.DirectionDown})
		t0 := f.clock.Now()
		require.Equal(t, []string{stockalert.RuleIDString(repeat)}, ruleIDs(f.evaluatePrice("e1", "AAPL", 201, 0, t0)))
		t1 := t0.Add(time.Hour)
		got := f.evaluatePrice("e2", "AAPL", 210, 220, t1) // above both levels, down 4.5 % on the day
		require.ElementsMatch(t, []string{stockalert.RuleIDString(repeat), stockalert.RuleIDString(once), stockalert.RuleIDString(fall)}, ruleIDs(got))
		for _, c := range []struct {
			id          int64
			state       string
			since, done time.Time
		}{
			{repeat, "above", t0, time.Time{}}, // still breached: keeps the time its breach began
			{once, "above", t1, t1},
			{fall, "below", t1, time.Time{}},
		} {
			state, since, done := f.ruleState(c.id)
			require.Equal(t, c.state, state, "rule %d", c.id)
			require.True(t, c.since.Equal(since), "rule %d breached since %v, want %v", c.id, since, c.since)
			require.True(t, c.done.Equal(done), "rule %d done at %v, want %v", c.id, done, c.done)
		}
	}},
	{"EvaluatePrice/over 500 alerts in one event: every rule is marked, and a breached rule still re-arms", func(t *testing.T, f *fixture) {
		fell := f.addRule("gu@example.com", stockalert.Rule{Ticker: "HOT", Kind: stockalert.KindBelow, Level: 50})
		u, err := f.store.UserByEmail(f.ctx, "gu@example.com")
		require.NoError(t, err)
		const n = 1001 // three statements of up to 500
		t0 := f.clock.Now()
		args := make([]any, 0, 5*n)
		for i := range n { // every third rule fires once
			repeat := stockalert.RepeatRearm
			if i%3 == 0 {
				repeat = stockalert.RepeatOnce
			}
			args = append(args, u.ID, 100+float64(i)/100, repeat, "armed", t0.UnixMilli())
		}
		_, err = f.store.DB().ExecContext(f.ctx, `INSERT INTO alert_rules (user_id, ticker, kind, high_value, repeat_mode, alert_state, created_at)
			VALUES `+strings.TrimSuffix(strings.Repeat("(?, 'HOT', 'above', ?, ?, ?, ?), ", n), ", "), args...)
		require.NoError(t, err)
		require.Equal(t, []string{stockalert.RuleIDString(fell)}, ruleIDs(f.evaluatePrice("e1", "HOT", 40, 0, t0)))
		t1 := t0.Add(time.Hour)
		require.Len(t, f.evaluatePrice("e2", "HOT", 120, 0, t1), n)
		require.Equal(t, n, f.count("alert_rules", "kind = 'above' AND alert_state = 'above' AND breached_since = ? AND last_alerted_at = ?",
			t1.UnixMilli(), t1.UnixMilli()))
		require.Equal(t, (n+2)/3, f.count("alert_rules", "kind = 'above' AND done_at = ?", t1.UnixMilli()))
		require.Equal(t, n-(n+2)/3, f.count("alert_rules", "kind = 'above' AND done_at IS NULL"))
		state, since, _ := f.ruleState(fell)
		require.Equal(t, "armed", state, "back above its level")
		require.True(t, since.IsZero())
	}},
	{"EvaluatePrice/a repeat while still breached says since when", func(t *testing.T, f *fixture) {
		id := f.addRule("cy@example.com", stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 200, Note: "trim"})
		t0 := f.clock.Now()
		first := f.evaluatePrice("e1", "AAPL", 201, 0, t0)
		require.Len(t, first, 1)
		require.Equal(t, "trim", first[0].Note)
		require.Empty(t, f.evaluatePrice("e2", "AAPL", 202, 0, t0.Add(30*time.Minute)), "within the interval")
		again := f.evaluatePrice("e3", "AAPL", 203, 0, t0.Add(time.Hour))
		require.Len(t, again, 1, "the interval passed")
		require.NotNil(t, again[0].BreachedSince)
		require.True(t, t0.Equal(*again[0].BreachedSince), "since the first breach: %v", *again[0].BreachedSince)
		_, since, _ := f.ruleState(id)
		require.True(t, t0.Equal(since))
		require.Equal(t, 2, f.count("alerts", "rule_id = ?", id), "both alerts are in the history")
	}},
	{"EvaluatePrice/change_pct: reaches the percent from the previous close, in its direction; unknown without one", func(t *testing.T, f *fixture) {
		down := f.addRule("di@example.com", stockalert.Rule{Ticker: "MSFT", Kind: stockalert.KindChangePct, Percent: 3, Direction: stockalert.DirectionDown})
		either := f.addRule("di@example.com", stockalert.Rule{Ticker: "MSFT", Kind: stockalert.KindChangePct, Percent: 5})
		t0 := f.clock.Now()
		require.Equal(t, []string{stockalert.RuleIDString(either)}, ruleIDs(f.evaluatePrice("e1", "MSFT", 110, 100, t0)),
			"up 10 %: the either rule fires, the down rule does not")
		state, _, _ := f.ruleState(either)
		require.Equal(t, "above", state)
		at := f.evaluatePrice("e2", "MSFT", 97, 100, t0.Add(time.Minute))
		require.Equal(t, []string{stockalert.RuleIDString(down)}, ruleIDs(at), "down exactly 3 %% fires the down rule")
		require.Equal(t, stockalert.Below, at[0].Condition)
		require.InDelta(t, 97.0, at[0].Threshold, 1e-9, "the previous close moved by the percent")
		require.Equal(t, 100.0, at[0].PreviousClose)
		require.InDelta(t, -3.0, *at[0].DayChangePercent, 1e-9)
		require.Equal(t, 3.0, at[0].Percent)
		require.Equal(t, stockalert.DirectionDown, at[0].Direction)
		state, _, _ = f.ruleState(either)
		require.Equal(t, "armed", state, "down 3 %% is inside the either rule's 5 %%: it re-armed")

		require.Empty(t, f.evaluatePrice("e3", "MSFT", 90, 0, t0.Add(2*time.Minute)), "no previous close: no change_pct rule fires")
		state, _, _ = f.ruleState(down)
		require.Equal(t, "below", state, "and none re-arms: the day change is unknown")
		require.Empty(t, f.evaluatePrice("e4", "MSFT", 100, 100, t0.Add(3*time.Minute)), "flat day")
		state, _, _ = f.ruleState(down)
		require.Equal(t, "armed", state)
	}},
	{"EvaluatePrice/move_pct: fires at the move level from its reference, either way by default", func(t *testing.T, f *fixture) {
		r := stockalert.Rule{Ticker: "NVDA", Kind: stockalert.KindMovePct, Percent: 5, Reference: 120.5}
		id := f.addRule("ed@example.com", r)
		up, down := r.MoveLevels()
		t0 := f.clock.Now()
		require.Empty(t, f.evaluatePrice("e1", "NVDA", *up-0.01, 0, t0), "just short of the move")
		hit := f.evaluatePrice("e2", "NVDA", *up, 0, t0.Add(time.Minute))
		require.Equal(t, []string{stockalert.RuleIDString(id)}, ruleIDs(hit), "exactly at the move level")
		require.Equal(t, 120.5, hit[0].Reference)
		require.Equal(t, stockalert.DirectionEither, hit[0].Direction)
		require.Equal(t, *up, hit[0].Threshold)
		require.Empty(t, f.evaluatePrice("e3", "NVDA", 121, 0, t0.Add(2*time.Minute)), "back near the reference")
		state, _, _ := f.ruleState(id)
		require.Equal(t, "armed", state)
		low := f.evaluatePrice("e4", "NVDA", *down, 0, t0.Add(3*time.Minute))
		require.Len(t, low, 1, "exactly at the down move")
		require.Equal(t, stockalert.Below, low[0].Condition)
	}},
	{"EvaluatePrice/once: fires once and is done, also when the event is redelivered", func(t *testing.T, f *fixture) {
		id := f.addRule("fi@example.com", stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindBelow, Level: 100, Repeat: stockalert.RepeatOnce})
		t0 := f.clock.Now()
		first := f.evaluatePrice("e1", "AAPL", 99, 0, t0)
		require.Len(t, first, 1)
		require.True(t, first[0].RuleDone, "the alert says the rule is done")
		_, _, done := f.ruleState(id)
		require.True(t, t0.Equal(done))
		require.Empty(t, f.evaluatePrice("e1", "AAPL", 99, 0, t0), "the same event redelivered")
		require.Empty(t, f.evaluatePrice("e2", "AAPL", 101, 0, t0.Add(time.Minute)), "back in range")
		require.Empty(t, f.evaluatePrice("e3", "AAPL", 90, 0, t0.Add(2*time.Hour)), "a new breach: the rule is done")
		require.Equal(t, 1, f.count("alerts", "rule_id = ?", id))
		tickers, err := f.store.DistinctTickers(f.ctx)
		require.NoError(t, err)
		require.NotContains(t, tickers, stockalert.Ticker("AAPL"), "a done rule is not priced")
	}},
	{"EvaluatePrice/a rule fires until it expires, then never, and is no longer priced", func(t *testing.T, f *fixture) {
		t0 := f.clock.Now()
		id := f.addRule("gu@example.com", stockalert.Rule{Ticker: "TSLA", Kind: stockalert.KindAbove, Level: 200, ExpiresAt: t0.Add(2 * time.Hour)})
		require.Len(t, f.evaluatePrice("e1", "TSLA", 201, 0, t0), 1)
		require.Empty(t, f.evaluatePrice("e2", "TSLA", 150, 0, t0.Add(time.Hour)))
		require.Empty(t, f.evaluatePrice("e3", "TSLA", 250, 0, t0.Add(2*time.Hour)), "a breach at the expiry instant")
		tickers, err := f.store.DistinctTickers(f.ctx)
		require.NoError(t, err)
		require.Contains(t, tickers, stockalert.Ticker("TSLA"), "still live by the store's clock")
		f.clock.Advance(2 * time.Hour)
		tickers, err = f.store.DistinctTickers(f.ctx)
		require.NoError(t, err)
		require.NotContains(t, tickers, stockalert.Ticker("TSLA"))
		require.Equal(t, 1, f.count("alerts", "rule_id = ?", id))
	}},
	{"EvaluatePrice/the alert history keeps what fired, once per alert id", func(t *testing.T, f *fixture) {
		id := f.addRule("hu@example.com", stockalert.Rule{Ticker: "MSFT", Kind: stockalert.KindChangePct, Percent: 2, Direction: stockalert.DirectionUp})
		t0 := f.clock.Now()
		got := f.evaluatePrice("e1", "MSFT", 102.5, 100, t0)
		require.Len(t, got, 1)
		var kind, cond, dir string
		var price, threshold, percent, change float64
		require.NoError(t, f.store.DB().QueryRowContext(f.ctx,
			`SELECT kind, alert_condition, price, threshold, percent, direction, day_change_pct FROM alerts WHERE event_id = ?`,
			got[0].EventID).Scan(&kind, &cond, &price, &threshold, &percent, &dir, &change))
		require.Equal(t, []any{"change_pct", "above", 102.5, 2.0, "up"}, []any{kind, cond, price, percent, dir})
		require.InDelta(t, 102.0, threshold, 1e-9)
		require.InDelta(t, 2.5, change, 1e-9)
		require.Equal(t, 1, f.count("alerts", "rule_id = ?", id))
	}},
	{"EvaluatePrice/a snoozed rule fires for no quote before its snooze ends; a snooze is kept, and only the owner's", func(t *testing.T, f *fixture) {
		t0 := f.clock.Now()
		id := f.addRule("sn@example.com", stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 200})
		other := f.addRule("zed@example.com", stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 200})
		owner, err := f.store.UserByEmail(f.ctx, "sn@example.com")
		require.NoError(t, err)
		var until time.Time
		require.NoError(t, f.store.InTx(f.ctx, func(ctx context.Context) error {
			until, err = f.store.SnoozeRule(ctx, owner.ID, id, t0, t0.Add(time.Hour))
			return err
		}))
		require.True(t, t0.Add(time.Hour).Equal(until))
		require.NoError(t, f.store.InTx(f.ctx, func(ctx context.Context) error {
			until, err = f.store.SnoozeRule(ctx, owner.ID, id, t0.Add(time.Minute), t0.Add(time.Minute+time.Hour))
			return err
		}))
		require.True(t, t0.Add(time.Hour).Equal(until), "a snooze running is kept: a repeated press changes nothing")
		err = f.store.InTx(f.ctx, func(ctx context.Context) error {
			_, err := f.store.SnoozeRule(ctx, owner.ID, other, t0, t0.Add(time.Hour))
			return err
		})
		require.ErrorIs(t, err, stockalert.ErrNotFound, "another user's rule")

		require.Equal(t, []string{stockalert.RuleIDString(other)}, ruleIDs(f.evaluatePrice("e1", "AAPL", 201, 0, t0.Add(30*time.Minute))),
			"the snoozed rule stays quiet; the other user's fires")
		rules, err := f.store.UserRules(f.ctx, "sn@example.com", "")
		require.NoError(t, err)
		require.True(t, t0.Add(time.Hour).Equal(rules[0].SnoozedUntil), "the rule reads back snoozed")
		require.Equal(t, []string{stockalert.RuleIDString(id)}, ruleIDs(f.evaluatePrice("e2", "AAPL", 202, 0, t0.Add(time.Hour))),
			"a quote at the snooze's end fires it")
	}},
}
