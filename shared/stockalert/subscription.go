package stockalert

import "time"

// AlertState is where a subscription stands in the alert policy: Armed (the price was last seen in
// range, or never seen), or Breached with the side it broke out on.
type AlertState string

// The alert states. A breached subscription stores its Condition as its state.
const (
	Armed         AlertState = "armed"
	BreachedAbove AlertState = AlertState(Above)
	BreachedBelow AlertState = AlertState(Below)
)

// Subscription is one user's watch on one ticker.
type Subscription struct {
	ID         int64
	UserID     int64
	Ticker     Ticker
	Thresholds Thresholds
	State      AlertState
	// LastAlertedAt is when the last alert was raised; zero if never.
	LastAlertedAt time.Time
}

// ShouldAlert applies the alert policy to a breach on side cond seen at now, for a user who wants at
// most one alert per interval: the first breach (or a jump to the other side) alerts at once; while the
// price stays out on the same side, it alerts again only once interval has passed since the last alert.
// A subscription re-arms when the price comes back inside its range.
func (s Subscription) ShouldAlert(cond Condition, now time.Time, interval time.Duration) bool {
	if s.State != AlertState(cond) {
		return true
	}
	return !now.Before(s.LastAlertedAt.Add(interval))
}
