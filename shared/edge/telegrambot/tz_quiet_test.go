package telegrambot_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

func TestTimeZoneIsSetShownAndUsedByStatus(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("pat@example.com", "AAPL", stockalert.Thresholds{High: stockalert.Float(200)})
	b.recordPrice("AAPL", 190.12, time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC))
	require.Equal(t, "This chat is not linked to an account yet. Open the Telegram link from your registration, or send /start <code> with the link code it gave you.",
		b.say(42, "/tz Europe/Paris"))
	b.say(42, "/start "+code)

	require.Equal(t, "Your time zone is UTC: every time I show you is in it. Change it with /tz <zone>, for example /tz Europe/Paris.", b.say(42, "/tz"))
	require.Equal(t, "Mars/Olympus is not a time zone I know. Send an IANA time zone name, for example /tz Europe/Paris, /tz America/New_York or /tz UTC.",
		b.say(42, "/tz Mars/Olympus"))
	require.Equal(t, "UTC", b.mustProfile("pat@example.com").TimeZone, "a bad zone changes nothing")
	require.Equal(t, "Done: times are shown in Asia/Tokyo from now on (it is 00:00 JST there now).", b.say(42, "/tz Asia/Tokyo"))
	require.Equal(t, "Asia/Tokyo", b.mustProfile("pat@example.com").TimeZone)
	require.Equal(t, "Your time zone is Asia/Tokyo: every time I show you is in it. Change it with /tz <zone>, for example /tz Europe/Paris.", b.say(42, "/tz"))
	// 14:30 UTC on 2 March is 23:30 in Tokyo, but "now" (15:00 UTC) is 3 March there: the date shows.
	require.Equal(t, `Account: pat@example.com
Alerts: on
Repeat alerts: at most every 1h while a ticker stays out of range

AAPL: above 200.00 USD, last 190.12 USD at 2026-03-02 23:30 JST`, b.say(42, "/status"))
	require.Equal(t, "Done: times are shown in UTC from now on (it is 15:00 UTC there now).", b.say(42, "/tz utc"))

	// In a group only administrators may change it.
	b.fake.SetChatMember(-100, 5, "member")
	status, replies := b.deliverRaw(telegramtest.GroupUpdate(-100, 5, "/tz Europe/Paris"))
	require.Equal(t, http.StatusOK, status)
	require.Len(t, replies, 1)
	require.Equal(t, "Only the group's administrators may do that.", replies[0].Text)
}

func TestQuietHoursAreSetShownAndTurnedOff(t *testing.T) {
	b := newBot(t)
	code := b.registerUser("pat@example.com", "", stockalert.Thresholds{})
	b.say(42, "/start "+code)
	require.Equal(t, "No quiet hours: alerts come as they fire. Set them with /quiet 22:00-07:00 (in your time zone, UTC).", b.say(42, "/quiet"))
	b.say(42, "/tz Europe/Paris")
	require.Equal(t, "Done: from 22:00 to 07:30 (Europe/Paris) alerts are held, and you get one message summing them up when the quiet hours end.",
		b.say(42, "/quiet 22:00-07:30"))
	require.Equal(t, stockalert.QuietHours{Set: true, Start: 22 * 60, End: 7*60 + 30}, b.mustProfile("pat@example.com").Quiet)
	require.Equal(t, "Quiet hours: 22:00-07:30 (Europe/Paris). Alerts that fire then are held, and you get one message summing them up when the quiet hours end. /quiet off turns them off.",
		b.say(42, "/quiet"))
	for _, bad := range []string{"/quiet 25:00-07:00", "/quiet 22:00", "/quiet 9pm-7am", "/quiet 07:00-07:00"} {
		require.Equal(t, "/quiet takes a daily window on the 24-hour clock, in your time zone, for example /quiet 22:00-07:00; /quiet off turns quiet hours off.",
			b.say(42, bad), bad)
	}
	require.Equal(t, "Done: from 12:00 to 13:00 (Europe/Paris) alerts are held, and you get one message summing them up when the quiet hours end.",
		b.say(42, "/quiet 12:00 - 13:00"))
	require.Equal(t, "Done: no quiet hours, alerts come as they fire.", b.say(42, "/quiet off"))
	require.False(t, b.mustProfile("pat@example.com").Quiet.Set)
}

// /help lists /price, /tz and /quiet, with their arguments.
func TestHelpListsPriceTimeZoneAndQuiet(t *testing.T) {
	b := newBot(t)
	help := b.say(42, "/help")
	require.Contains(t, help, `
/price <TICKER> [TICKER…] - the current price of up to 5 symbols
/chart <TICKER> [1d|5d|1mo|6mo|1y] - a chart of the price with your levels and alerts
/tz <zone> - the time zone times are shown in, e.g. Europe/Paris (alone: show it)
/quiet <HH:MM>-<HH:MM> | off - hold alerts during these hours, then sum them up (alone: show them)
`)
}
