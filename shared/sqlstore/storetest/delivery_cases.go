package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

var deliveryCases = []contractCase{
	{"ClaimDelivery/one claim at a time, ended by the record, taken over after the lease", func(t *testing.T, f *fixture) {
		r := f.registerUser("cid@example.com", "AAPL", th(f64(1), nil))
		uid := f.mustProfile(r.email).UserID
		chat := int64(41)
		a := stockalert.AlertEvent{EventID: "c1", Email: "cid@example.com", Ticker: "AAPL", Condition: stockalert.Above, Price: 2, Threshold: 1}
		claim := command.DeliveryClaim{Alert: a, UserID: uid, ChatID: &chat, Lease: time.Minute}

		prev, ok, err := f.store.ClaimDelivery(f.ctx, claim)
		require.NoError(t, err)
		require.True(t, ok, "never logged: claimed")
		require.Empty(t, prev)
		st, err := f.store.DeliveryState(f.ctx, "c1")
		require.NoError(t, err)
		require.Equal(t, stockalert.Sending, st)

		prev, ok, err = f.store.ClaimDelivery(f.ctx, claim)
		require.NoError(t, err)
		require.False(t, ok, "held by the first")
		require.Equal(t, stockalert.Sending, prev)

		// The first delivery died: after its lease the alert is claimed again.
		f.clock.Advance(time.Minute)
		prev, ok, err = f.store.ClaimDelivery(f.ctx, claim)
		require.NoError(t, err)
		require.True(t, ok, "the lease has passed")
		require.Equal(t, stockalert.Sending, prev)

		// A failed attempt ends the claim: the next delivery claims at once.
		require.NoError(t, f.recordNotif.Handle(f.ctx, command.RecordNotification{Alert: a, UserID: uid, ChatID: &chat,
			State: stockalert.Failed, Error: "timeout"}))
		prev, ok, err = f.store.ClaimDelivery(f.ctx, claim)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, stockalert.Failed, prev)

		// Sent is final: never claimed again, whatever the time.
		require.NoError(t, f.recordNotif.Handle(f.ctx, command.RecordNotification{Alert: a, UserID: uid, ChatID: &chat, State: stockalert.Sent}))
		f.clock.Advance(time.Hour)
		prev, ok, err = f.store.ClaimDelivery(f.ctx, claim)
		require.NoError(t, err)
		require.False(t, ok)
		require.Equal(t, stockalert.Sent, prev)
		log, err := f.store.Notifications(f.ctx, "cid@example.com")
		require.NoError(t, err)
		require.Len(t, log, 1)
		require.Equal(t, 2, log[0].Attempts, "claims are not attempts")

		_, _, err = f.store.ClaimDelivery(f.ctx, command.DeliveryClaim{Alert: a, UserID: uid})
		require.Error(t, err, "a claim needs a lease")
	}},
	{"ClaimDelivery/concurrent claims of one alert: exactly one wins", func(t *testing.T, f *fixture) {
		r := f.registerUser("race@example.com", "AAPL", th(f64(1), nil))
		uid := f.mustProfile(r.email).UserID
		const claimers = 8
		for round, id := range []string{"r1", "r2", "r3"} {
			a := stockalert.AlertEvent{EventID: id, Email: "race@example.com", Ticker: "AAPL", Condition: stockalert.Above, Price: 2, Threshold: 1}
			if round == 2 { // an alert whose last attempt failed, claimed again by many at once
				require.NoError(t, f.recordNotif.Handle(f.ctx, command.RecordNotification{Alert: a, UserID: uid, State: stockalert.Failed}))
			}
			var (
				wg   sync.WaitGroup
				wins = make(chan bool, claimers)
				errs = make(chan error, claimers)
			)
			for range claimers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, ok, err := f.store.ClaimDelivery(f.ctx, command.DeliveryClaim{Alert: a, UserID: uid, Lease: time.Minute})
					errs <- err
					wins <- ok
				}()
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
			require.Equalf(t, 1, n, "alert %s: %d claims won", id, n)
		}
	}},
}
