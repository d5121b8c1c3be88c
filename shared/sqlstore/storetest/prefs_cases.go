package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// prefsCases: the time zone and quiet hours of the user linked to a chat (/tz, /quiet).
var prefsCases = []contractCase{
	{"SetTimeZone/the chat's user reads times in the zone; a bad zone changes nothing", func(t *testing.T, f *fixture) {
		r := f.registerUser("zoe@example.com", "AAPL", th(nil, nil))
		other := f.registerUser("zed@example.com", "AAPL", th(nil, nil))
		f.linkChat(r, 31)
		f.linkChat(other, 32)
		set := command.NewSetTimeZoneHandler(f.store, nil, nil)
		require.Equal(t, "UTC", f.mustProfile(r.email).TimeZone, "UTC by default")
		require.NoError(t, set.Handle(f.ctx, command.SetTimeZone{ChatID: 31, Zone: "America/New_York"}))
		require.Equal(t, "America/New_York", f.mustProfile(r.email).TimeZone)
		u, err := f.store.UserByChat(f.ctx, 31)
		require.NoError(t, err)
		require.Equal(t, "America/New_York", u.Location().String())
		require.NoError(t, set.Handle(f.ctx, command.SetTimeZone{ChatID: 31, Zone: "America/New_York"}), "setting it again is fine")

		for _, bad := range []string{"Mars/Olympus", "", "Local", "../etc/passwd", "Europe/Paris; DROP TABLE users"} {
			requireField(t, set.Handle(f.ctx, command.SetTimeZone{ChatID: 31, Zone: bad}), "time_zone")
		}
		require.Equal(t, "America/New_York", f.mustProfile(r.email).TimeZone)
		require.Equal(t, "UTC", f.mustProfile(other.email).TimeZone, "other users keep theirs")
		requireIs(t, set.Handle(f.ctx, command.SetTimeZone{ChatID: 99, Zone: "Europe/Paris"}), stockalert.ErrNotFound)
		_, err = f.store.UserByChat(f.ctx, 99)
		requireIs(t, err, stockalert.ErrNotFound)
	}},
	{"SetQuietHours/set, read back, cleared", func(t *testing.T, f *fixture) {
		r := f.registerUser("quinn@example.com", "AAPL", th(nil, nil))
		f.linkChat(r, 33)
		set := command.NewSetQuietHoursHandler(f.store, nil, nil)
		require.False(t, f.mustProfile(r.email).Quiet.Set, "none by default")
		night := stockalert.QuietHours{Set: true, Start: 22 * 60, End: 7*60 + 30}
		require.NoError(t, set.Handle(f.ctx, command.SetQuietHours{ChatID: 33, Quiet: night}))
		require.Equal(t, night, f.mustProfile(r.email).Quiet)
		u, err := f.store.UserByEmail(f.ctx, stockalert.Email(r.email))
		require.NoError(t, err)
		require.Equal(t, night, u.Quiet)

		requireField(t, set.Handle(f.ctx, command.SetQuietHours{ChatID: 33, Quiet: stockalert.QuietHours{Set: true, Start: 60, End: 60}}), "quiet_hours")
		requireField(t, set.Handle(f.ctx, command.SetQuietHours{ChatID: 33, Quiet: stockalert.QuietHours{Set: true, Start: 60, End: 1440}}), "quiet_hours")
		require.Equal(t, night, f.mustProfile(r.email).Quiet, "refused windows change nothing")

		require.NoError(t, set.Handle(f.ctx, command.SetQuietHours{ChatID: 33}))
		require.Equal(t, stockalert.QuietHours{}, f.mustProfile(r.email).Quiet)
		requireIs(t, set.Handle(f.ctx, command.SetQuietHours{ChatID: 98, Quiet: night}), stockalert.ErrNotFound)
	}},
}

// heldCases: alerts held during quiet hours, found, summed up and resolved.
var heldCases = []contractCase{
	{"HeldAlerts/found per user up to a time, resolved with their summary", func(t *testing.T, f *fixture) {
		r := f.registerUser("hana@example.com", "AAPL", th(f64(1), nil))
		other := f.registerUser("hugo@example.com", "AAPL", th(f64(1), nil))
		f.linkChat(r, 51)
		f.linkChat(other, 52)
		uid, oid := f.mustProfile(r.email).UserID, f.mustProfile(other.email).UserID
		chat := int64(51)
		hold := func(id string, user int64, email string, price float64) {
			a := stockalert.AlertEvent{EventID: id, Email: stockalert.Email(email), Ticker: "AAPL", Condition: stockalert.Above,
				Price: price, Threshold: 1}
			require.NoError(t, f.recordNotif.Handle(f.ctx, command.RecordNotification{Alert: a, UserID: user, ChatID: &chat,
				State: stockalert.Held, Reason: "quiet hours"}))
		}
		batches, err := f.store.UsersWithHeldAlerts(f.ctx)
		require.NoError(t, err)
		require.Empty(t, batches)

		t0 := f.clock.Now()
		hold("h1", uid, r.email, 2)
		f.clock.Advance(time.Minute)
		hold("h2", uid, r.email, 3)
		hold("o1", oid, other.email, 4)
		sent := stockalert.AlertEvent{EventID: "s1", Email: stockalert.Email(r.email), Ticker: "AAPL", Condition: stockalert.Above, Price: 5, Threshold: 1}
		require.NoError(t, f.recordNotif.Handle(f.ctx, command.RecordNotification{Alert: sent, UserID: uid, ChatID: &chat, State: stockalert.Sent}))

		batches, err = f.store.UsersWithHeldAlerts(f.ctx)
		require.NoError(t, err)
		require.Len(t, batches, 2)
		require.Equal(t, r.email, string(batches[0].User.Email))
		require.True(t, batches[0].Latest.Equal(t0.Add(time.Minute)), "latest held at %v", batches[0].Latest)
		require.Equal(t, other.email, string(batches[1].User.Email))

		held, err := f.store.HeldAlerts(f.ctx, uid, t0)
		require.NoError(t, err)
		require.Len(t, held, 1, "up to t0 only")
		require.Equal(t, "h1", held[0].EventID)
		held, err = f.store.HeldAlerts(f.ctx, uid, t0.Add(time.Minute))
		require.NoError(t, err)
		require.Len(t, held, 2)
		require.Equal(t, "h2", held[1].EventID)
		require.Equal(t, stockalert.Ticker("AAPL"), held[1].Ticker)
		require.Equal(t, stockalert.Above, held[1].Condition)
		require.InDelta(t, 3.0, held[1].Price, 1e-9)
		require.True(t, held[1].Time.Equal(t0.Add(time.Minute)))

		n, err := f.store.ResolveHeld(f.ctx, uid, t0.Add(time.Minute), stockalert.Sent)
		require.NoError(t, err)
		require.Equal(t, int64(2), n)
		st, err := f.store.DeliveryState(f.ctx, "h2")
		require.NoError(t, err)
		require.Equal(t, stockalert.Sent, st)
		n, err = f.store.ResolveHeld(f.ctx, uid, t0.Add(time.Minute), stockalert.Sent)
		require.NoError(t, err)
		require.Zero(t, n, "resolving again changes nothing")
		batches, err = f.store.UsersWithHeldAlerts(f.ctx)
		require.NoError(t, err)
		require.Len(t, batches, 1, "the other user's alert is still held")
		require.Equal(t, oid, batches[0].User.ID)
	}},
}
