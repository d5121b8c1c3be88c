package storetest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// raiseAlert writes one alert of the history as EvaluatePrice does (RecordAlerts) and returns its
// event.
func (f *fixture) raiseAlert(userID, ruleID int64, ticker string, at time.Time, price float64) stockalert.AlertEvent {
	f.t.Helper()
	e := stockalert.AlertEvent{
		EventID: stockalert.AlertEventID("price-"+strconv.FormatInt(at.UnixMilli(), 10), ruleID),
		Ticker:  stockalert.Ticker(ticker), Condition: stockalert.Above, Price: price, Currency: "USD", Threshold: 100,
		Time: at, RuleID: stockalert.RuleIDString(ruleID), Kind: stockalert.KindAbove,
	}
	require.NoError(f.t, f.store.InTx(f.ctx, func(ctx context.Context) error {
		return f.store.RecordAlerts(ctx, []command.RaisedAlert{{UserID: userID, RuleID: ruleID, Event: e}})
	}))
	return e
}

var historyCases = []contractCase{
	{"AlertHistory/newest first with the delivery outcome, per user and ticker, bounded", func(t *testing.T, f *fixture) {
		u := f.ruleUseCases()
		r := f.registerUser("hal@example.com", "", th(nil, nil))
		o := f.registerUser("ivy@example.com", "", th(nil, nil))
		rule := u.createRule(t, f, r.email, stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 100})
		uid, oid := f.mustProfile(r.email).UserID, f.mustProfile(o.email).UserID
		t0 := f.clock.Now()
		sent := f.raiseAlert(uid, rule.ID, "AAPL", t0, 101)
		undeliverable := f.raiseAlert(uid, rule.ID, "AAPL", t0.Add(time.Minute), 102)
		failed := f.raiseAlert(uid, rule.ID, "AAPL", t0.Add(2*time.Minute), 103)
		unsent := f.raiseAlert(uid, rule.ID+1000, "MSFT", t0.Add(3*time.Minute), 104)
		f.raiseAlert(oid, rule.ID+2000, "AAPL", t0.Add(4*time.Minute), 105)

		record := func(e stockalert.AlertEvent, state stockalert.DeliveryState, msg, reason string) {
			require.NoError(t, f.recordNotif.Handle(f.ctx, command.RecordNotification{Alert: e, UserID: uid, State: state, Error: msg, Reason: reason}))
		}
		record(sent, stockalert.Sent, "", "")
		record(undeliverable, stockalert.Undeliverable, "telegram send to chat 5: undeliverable: Forbidden: bot was blocked by the user", "no Telegram chat linked")
		record(failed, stockalert.Failed, "telegram: 502", "")

		got, err := u.history.Handle(f.ctx, query.AlertHistory{Email: r.email})
		require.NoError(t, err)
		require.Len(t, got, 4, "only the user's own alerts")
		want := []struct {
			id      string
			outcome query.DeliveryOutcome
			reason  string
		}{
			{unsent.EventID, query.OutcomePending, ""},
			{failed.EventID, query.OutcomePending, ""},
			{undeliverable.EventID, query.OutcomeUndeliverable, "no Telegram chat linked"},
			{sent.EventID, query.OutcomeSent, ""},
		}
		for i, w := range want {
			require.Equal(t, w.id, got[i].EventID, "newest first")
			require.Equal(t, []query.Delivery{{Channel: query.ChannelTelegram, Outcome: w.outcome, Reason: w.reason}}, got[i].Deliveries)
		}
		require.Equal(t, rule.ID, got[3].RuleID)
		require.Equal(t, stockalert.KindAbove, got[3].Kind)
		require.Equal(t, 101.0, got[3].Price)
		require.Equal(t, "USD", got[3].Currency)
		require.Equal(t, 100.0, got[3].Threshold)
		require.True(t, got[3].RaisedAt.Equal(t0))

		aapl, err := u.history.Handle(f.ctx, query.AlertHistory{Email: r.email, Ticker: "aapl", Limit: "2"})
		require.NoError(t, err)
		require.Len(t, aapl, 2)
		require.Equal(t, failed.EventID, aapl[0].EventID)
		require.Equal(t, undeliverable.EventID, aapl[1].EventID)

		for _, bad := range []string{"0", "501", "x", "-1", "1.5"} {
			_, err := u.history.Handle(f.ctx, query.AlertHistory{Email: r.email, Limit: bad})
			requireField(t, err, "limit")
		}
		_, err = u.history.Handle(f.ctx, query.AlertHistory{Email: r.email, Limit: "500"})
		require.NoError(t, err)
	}},
}
