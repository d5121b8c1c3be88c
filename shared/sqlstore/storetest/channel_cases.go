package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// channelSettings reads uid's settings keyed by channel, checking they come in stockalert.Channels order.
func (f *fixture) channelSettings(uid int64) map[stockalert.Channel]stockalert.ChannelSettings {
	f.t.Helper()
	all, err := f.store.ChannelSettings(f.ctx, uid)
	require.NoError(f.t, err)
	require.Len(f.t, all, len(stockalert.Channels))
	out := map[stockalert.Channel]stockalert.ChannelSettings{}
	for i, c := range all {
		require.Equal(f.t, stockalert.Channels[i], c.Channel, "order")
		out[c.Channel] = c
	}
	return out
}

// channelCases: a user's channel settings and the per-(alert, channel) delivery log.
var channelCases = []contractCase{
	{"Channels/a rule's channels are stored, listed and carried on its alerts", func(t *testing.T, f *fixture) {
		u := f.ruleUseCases()
		r := f.registerUser("rch@example.com", "", th(nil, nil))
		named := u.createRule(t, f, r.email, stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 100,
			Channels: []stockalert.Channel{stockalert.ChannelEmail, stockalert.ChannelWebhook}})
		all := u.createRule(t, f, r.email, stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 99})
		require.Equal(t, 1, f.count("alert_rules", "id = ? AND channels = 'email,webhook'", named.ID))
		require.Equal(t, 1, f.count("alert_rules", "id = ? AND channels IS NULL", all.ID))

		views, err := u.rules.Handle(f.ctx, query.Rules{Email: r.email})
		require.NoError(t, err)
		require.Len(t, views, 2)
		require.Equal(t, []stockalert.Channel{stockalert.ChannelEmail, stockalert.ChannelWebhook}, views[0].Rule.Channels)
		require.Nil(t, views[1].Rule.Channels, "none named: all enabled")

		alerts := f.evaluateAAPL("p1", 101, f.clock.Now())
		require.Len(t, alerts, 2)
		byRule := map[string]stockalert.AlertEvent{}
		for _, a := range alerts {
			byRule[a.RuleID] = a
		}
		require.Equal(t, []stockalert.Channel{stockalert.ChannelEmail, stockalert.ChannelWebhook},
			byRule[stockalert.RuleIDString(named.ID)].Channels)
		require.Nil(t, byRule[stockalert.RuleIDString(all.ID)].Channels)

		err = u.create.Handle(f.ctx, command.CreateRule{Email: r.email, Rule: stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove,
			Level: 1, Channels: []stockalert.Channel{"sms"}}})
		requireField(t, err, "channels")
	}},
	{"Channels/defaults: telegram on once linked, e-mail the account's address unconfirmed, webhook off", func(t *testing.T, f *fixture) {
		r := f.registerUser("ch@example.com", "AAPL", th(f64(1), nil))
		uid := f.mustProfile(r.email).UserID
		s := f.channelSettings(uid)
		require.Equal(t, stockalert.ChannelSettings{Channel: stockalert.ChannelTelegram, Enabled: true, Verified: true}, s[stockalert.ChannelTelegram])
		require.Equal(t, stockalert.ChannelSettings{Channel: stockalert.ChannelEmail, Target: "ch@example.com"}, s[stockalert.ChannelEmail])
		require.Equal(t, stockalert.ChannelSettings{Channel: stockalert.ChannelWebhook, Verified: true}, s[stockalert.ChannelWebhook])

		f.linkChat(r, 4242)
		require.Equal(t, "4242", f.channelSettings(uid)[stockalert.ChannelTelegram].Target)

		_, err := f.store.ChannelSettings(f.ctx, uid+1000)
		requireIs(t, err, stockalert.ErrNotFound)
	}},
	{"Channels/enable and disable each channel; unknown user or channel changes nothing", func(t *testing.T, f *fixture) {
		r := f.registerUser("onoff@example.com", "AAPL", th(f64(1), nil))
		other := f.registerUser("other@example.com", "AAPL", th(f64(1), nil))
		uid, oid := f.mustProfile(r.email).UserID, f.mustProfile(other.email).UserID
		for _, c := range stockalert.Channels {
			require.NoError(t, f.store.SetChannelEnabled(f.ctx, uid, c, true))
			require.True(t, f.channelSettings(uid)[c].Enabled, c)
			require.NoError(t, f.store.SetChannelEnabled(f.ctx, uid, c, true), "again: no change is no error")
			require.NoError(t, f.store.SetChannelEnabled(f.ctx, uid, c, false))
			require.False(t, f.channelSettings(uid)[c].Enabled, c)
		}
		require.True(t, f.channelSettings(oid)[stockalert.ChannelTelegram].Enabled, "other users untouched")
		require.False(t, f.channelSettings(oid)[stockalert.ChannelEmail].Enabled)

		for _, c := range stockalert.Channels {
			requireIs(t, f.store.SetChannelEnabled(f.ctx, uid+1000, c, true), stockalert.ErrNotFound, c)
		}
		require.Error(t, f.store.SetChannelEnabled(f.ctx, uid, "sms", true))
		require.Zero(t, f.count("user_channels", "channel = ?", "sms"))
	}},
	{"Channels/target, secret, verification, failures and the system's disabling", func(t *testing.T, f *fixture) {
		r := f.registerUser("hook@example.com", "AAPL", th(f64(1), nil))
		uid := f.mustProfile(r.email).UserID

		require.NoError(t, f.store.SetChannelTarget(f.ctx, uid, stockalert.ChannelWebhook, "https://hooks.example.com/a", "whsec_c2VjcmV0"))
		require.NoError(t, f.store.SetChannelEnabled(f.ctx, uid, stockalert.ChannelWebhook, true))
		w := f.channelSettings(uid)[stockalert.ChannelWebhook]
		require.Equal(t, "https://hooks.example.com/a", w.Target)
		require.Equal(t, "whsec_c2VjcmV0", w.Secret)
		require.True(t, w.Enabled)
		require.Equal(t, f.clock.Now(), w.UpdatedAt)

		for want := 1; want <= 3; want++ {
			n, err := f.store.RecordChannelFailure(f.ctx, uid, stockalert.ChannelWebhook)
			require.NoError(t, err)
			require.Equal(t, want, n)
		}
		require.NoError(t, f.store.ResetChannelFailures(f.ctx, uid, stockalert.ChannelWebhook))
		require.Zero(t, f.channelSettings(uid)[stockalert.ChannelWebhook].Failures)
		n, err := f.store.RecordChannelFailure(f.ctx, uid, stockalert.ChannelWebhook)
		require.NoError(t, err)
		require.Equal(t, 1, n, "counted again from zero")

		require.NoError(t, f.store.DisableChannel(f.ctx, uid, stockalert.ChannelWebhook, "the webhook failed 3 times in a row"))
		w = f.channelSettings(uid)[stockalert.ChannelWebhook]
		require.False(t, w.Enabled)
		require.Equal(t, "the webhook failed 3 times in a row", w.DisabledReason)
		require.Equal(t, 1, w.Failures)
		require.NoError(t, f.store.SetChannelEnabled(f.ctx, uid, stockalert.ChannelWebhook, true))
		w = f.channelSettings(uid)[stockalert.ChannelWebhook]
		require.True(t, w.Enabled)
		require.Empty(t, w.DisabledReason, "turned on by the user: the reason is gone")
		require.Zero(t, w.Failures)

		// E-mail: confirmed for the address it was sent to; another address needs confirming again.
		require.NoError(t, f.store.SetChannelTarget(f.ctx, uid, stockalert.ChannelEmail, "hook@example.com", ""))
		require.False(t, f.channelSettings(uid)[stockalert.ChannelEmail].Verified)
		require.NoError(t, f.store.MarkChannelVerified(f.ctx, uid, stockalert.ChannelEmail, f.clock.Now()))
		e := f.channelSettings(uid)[stockalert.ChannelEmail]
		require.True(t, e.Verified)
		require.Equal(t, "hook@example.com", e.Target)
		require.Empty(t, e.Secret)
		require.NoError(t, f.store.SetChannelTarget(f.ctx, uid, stockalert.ChannelEmail, "hook@example.com", ""))
		require.True(t, f.channelSettings(uid)[stockalert.ChannelEmail].Verified, "same address: still confirmed")
		require.NoError(t, f.store.SetChannelTarget(f.ctx, uid, stockalert.ChannelEmail, "new@example.com", ""))
		e = f.channelSettings(uid)[stockalert.ChannelEmail]
		require.False(t, e.Verified, "another address: not confirmed")
		require.Equal(t, "hook@example.com", e.Target, "e-mail goes to the account's address")

		requireField(t, f.store.SetChannelTarget(f.ctx, uid, stockalert.ChannelTelegram, "1", ""), "channel")
		requireIs(t, f.store.SetChannelTarget(f.ctx, uid+1000, stockalert.ChannelWebhook, "https://x.example", ""), stockalert.ErrNotFound)
		_, err = f.store.RecordChannelFailure(f.ctx, uid+1000, stockalert.ChannelWebhook)
		requireIs(t, err, stockalert.ErrNotFound)

		require.NoError(t, f.store.DisableChannel(f.ctx, uid, stockalert.ChannelTelegram, "ignored"))
		require.False(t, f.channelSettings(uid)[stockalert.ChannelTelegram].Enabled)

		require.NoError(t, f.deleteUser.Handle(f.ctx, command.DeleteUser{Email: r.email}))
		require.Zero(t, f.count("user_channels", "user_id = ?", uid), "deleted with the user")
	}},
	{"ChannelDeliveries/one claim per (alert, channel), ended by the record, taken over after the lease", func(t *testing.T, f *fixture) {
		r := f.registerUser("dl@example.com", "AAPL", th(f64(1), nil))
		uid := f.mustProfile(r.email).UserID
		email := command.ChannelClaim{EventID: "e1", Channel: stockalert.ChannelEmail, UserID: uid, Lease: time.Minute}
		hook := email
		hook.Channel = stockalert.ChannelWebhook

		_, err := f.store.ChannelDeliveryState(f.ctx, "e1", stockalert.ChannelEmail)
		requireIs(t, err, stockalert.ErrNotFound)
		prev, ok, err := f.store.ClaimChannelDelivery(f.ctx, email)
		require.NoError(t, err)
		require.True(t, ok)
		require.Empty(t, prev)
		prev, ok, err = f.store.ClaimChannelDelivery(f.ctx, hook)
		require.NoError(t, err)
		require.True(t, ok, "another channel of the same alert is its own delivery")
		require.Empty(t, prev)

		prev, ok, err = f.store.ClaimChannelDelivery(f.ctx, email)
		require.NoError(t, err)
		require.False(t, ok, "held by the first")
		require.Equal(t, stockalert.Sending, prev)
		f.clock.Advance(time.Minute)
		_, ok, err = f.store.ClaimChannelDelivery(f.ctx, email)
		require.NoError(t, err)
		require.True(t, ok, "the lease has passed")

		require.NoError(t, f.store.RecordChannelDelivery(f.ctx, command.ChannelOutcome{EventID: "e1", Channel: stockalert.ChannelEmail,
			UserID: uid, State: stockalert.Failed, Error: "421 try later"}))
		prev, ok, err = f.store.ClaimChannelDelivery(f.ctx, email)
		require.NoError(t, err)
		require.True(t, ok, "a failed attempt ends the claim")
		require.Equal(t, stockalert.Failed, prev)
		require.NoError(t, f.store.RecordChannelDelivery(f.ctx, command.ChannelOutcome{EventID: "e1", Channel: stockalert.ChannelEmail,
			UserID: uid, State: stockalert.Sent}))
		require.NoError(t, f.store.RecordChannelDelivery(f.ctx, command.ChannelOutcome{EventID: "e1", Channel: stockalert.ChannelWebhook,
			UserID: uid, State: stockalert.Undeliverable, Error: "410 Gone", Reason: "the webhook refused it"}))
		f.clock.Advance(time.Hour)
		for _, c := range []command.ChannelClaim{email, hook} {
			prev, ok, err = f.store.ClaimChannelDelivery(f.ctx, c)
			require.NoError(t, err)
			require.False(t, ok, "final: never claimed again")
			require.True(t, prev.Final())
		}
		st, err := f.store.ChannelDeliveryState(f.ctx, "e1", stockalert.ChannelEmail)
		require.NoError(t, err)
		require.Equal(t, stockalert.Sent, st)

		log, err := f.store.ChannelDeliveries(f.ctx, "dl@example.com")
		require.NoError(t, err)
		require.Len(t, log, 2)
		require.Equal(t, [2]any{stockalert.ChannelEmail, 2}, [2]any{log[0].Channel, log[0].Attempts}, "claims are not attempts")
		require.Empty(t, log[0].Error, "the last attempt succeeded")
		require.Equal(t, stockalert.ChannelWebhook, log[1].Channel)
		require.Equal(t, stockalert.Undeliverable, log[1].State)
		require.Equal(t, "the webhook refused it", log[1].Reason)

		_, _, err = f.store.ClaimChannelDelivery(f.ctx, command.ChannelClaim{EventID: "e2", Channel: stockalert.ChannelEmail, UserID: uid})
		require.Error(t, err, "a claim needs a lease")
	}},
	{"ChannelDeliveries/concurrent claims of one (alert, channel): exactly one wins", func(t *testing.T, f *fixture) {
		r := f.registerUser("dlrace@example.com", "AAPL", th(f64(1), nil))
		uid := f.mustProfile(r.email).UserID
		const claimers = 8
		for round, id := range []string{"r1", "r2"} {
			c := command.ChannelClaim{EventID: id, Channel: stockalert.ChannelWebhook, UserID: uid, Lease: time.Minute}
			if round == 1 {
				require.NoError(t, f.store.RecordChannelDelivery(f.ctx, command.ChannelOutcome{EventID: id, Channel: c.Channel,
					UserID: uid, State: stockalert.Failed}))
			}
			var (
				wg   sync.WaitGroup
				wins = make(chan bool, claimers)
				errs = make(chan error, claimers)
			)
			for range claimers {
				wg.Go(func() {
					_, ok, err := f.store.ClaimChannelDelivery(f.ctx, c)
					errs <- err
					wins <- ok
				})
			}
			wg.Wait()
			close(wins)
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			n := 0
			for ok := range wins {
				if ok {
					n++
				}
			}
			require.Equalf(t, 1, n, "delivery %s: %d claims won", id, n)
		}
	}},
}
