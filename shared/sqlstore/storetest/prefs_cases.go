package storetest

import (
	"testing"

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
