package stockalert

import (
	"time"
)

// Notification interval bounds: how often a user may be alerted again about a subscription that stays
// out of range (the bot's /set).
const (
	DefaultNotifyInterval = time.Hour
	MaxNotifyInterval     = 30 * 24 * time.Hour
)

// User is a registered person. The API token and the Telegram link code are kept only as hashes.
type User struct {
	ID             int64
	Email          Email
	TelegramChatID *int64
	NotifyInterval time.Duration
	Paused         bool
	CreatedAt      time.Time
	// TimeZone is the IANA zone every time shown to the user is written in ("UTC" by default; /tz).
	TimeZone string
	// Quiet is the user's quiet hours; the zero value is none.
	Quiet QuietHours
}

// Location returns the user's time zone, UTC when it is unset or unknown to this machine's zone
// database.
func (u User) Location() *time.Location { return LoadZone(u.TimeZone) }

// LoadZone returns the IANA zone name's location, or UTC for "" or a name this machine does not know.
func LoadZone(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// QuietHours is a daily window, in minutes after midnight in the user's zone, during which alerts are
// held rather than sent: from Start until End, across midnight when End is before Start ("22:00-07:00").
// Set is false for none.
type QuietHours struct {
	Set        bool
	Start, End int // 0 to 1439
}

// Contains reports whether t, read in loc, falls in the window.
func (q QuietHours) Contains(t time.Time, loc *time.Location) bool {
	if !q.Set || q.Start == q.End {
		return false
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	if q.Start < q.End {
		return m >= q.Start && m < q.End
	}
	return m >= q.Start || m < q.End
}

// ParseNotifyInterval turns a number of seconds into an interval, from 0 (every breach event) to
// MaxNotifyInterval. It returns a *ValidationError for field "interval" otherwise.
func ParseNotifyInterval(seconds int64) (time.Duration, error) {
	if seconds < 0 || seconds > int64(MaxNotifyInterval/time.Second) {
		return 0, Invalid("interval", "must be between 0 and %d seconds", int64(MaxNotifyInterval/time.Second))
	}
	return time.Duration(seconds) * time.Second, nil
}

// ValidateChatID checks a Telegram chat id (non-zero; negative ids are groups).
func ValidateChatID(id int64) error {
	if id == 0 {
		return Invalid("telegram_chat_id", "must not be 0")
	}
	return nil
}
