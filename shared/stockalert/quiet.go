package stockalert

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

var quietPattern = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])-([01]?[0-9]|2[0-3]):([0-5][0-9])$`)

// ParseQuietHours reads a daily window "HH:MM-HH:MM" (24-hour clock, in the user's zone; across
// midnight when the end is before the start: "22:00-07:00"). A malformed window, or one that starts
// where it ends, is a *ValidationError naming "quiet_hours".
func ParseQuietHours(s string) (QuietHours, error) {
	m := quietPattern.FindStringSubmatch(s)
	if m == nil {
		return QuietHours{}, Invalid("quiet_hours", "%q is not a window HH:MM-HH:MM", s)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	q := QuietHours{Set: true, Start: n(1)*60 + n(2), End: n(3)*60 + n(4)}
	if q.Start == q.End {
		return QuietHours{}, Invalid("quiet_hours", "the window %s starts where it ends", s)
	}
	return q, nil
}

// String writes the window as ParseQuietHours reads it, "22:00-07:00", or "off" when none is set.
func (q QuietHours) String() string {
	if !q.Set {
		return "off"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", q.Start/60, q.Start%60, q.End/60, q.End%60)
}

// LastEnd returns the latest end of the window at or before t, read in loc: when the quiet hours that
// ended last ended. ok is false when no window is set.
func (q QuietHours) LastEnd(t time.Time, loc *time.Location) (time.Time, bool) {
	if !q.Set || q.Start == q.End {
		return time.Time{}, false
	}
	lt := t.In(loc)
	end := time.Date(lt.Year(), lt.Month(), lt.Day(), q.End/60, q.End%60, 0, 0, loc)
	if end.After(t) {
		end = time.Date(lt.Year(), lt.Month(), lt.Day()-1, q.End/60, q.End%60, 0, 0, loc)
	}
	return end, true
}
