package query

import (
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// Profile is a user with the subscriptions they watch.
type Profile struct {
	UserID         int64
	Email          stockalert.Email
	TelegramChatID *int64
	NotifyInterval time.Duration
	Paused         bool
	CreatedAt      time.Time
	Subscriptions  []Subscription // ordered by ticker: the user's ranges
	// TimeZone is the IANA zone the user reads times in (stockalert.User.TimeZone); Quiet their quiet
	// hours.
	TimeZone string
	Quiet    stockalert.QuietHours
	// OtherRules is how many alert rules the user has besides the ranges (above, below, change_pct,
	// move_pct; the Rules query lists them).
	OtherRules int
}

// Subscription is one watched ticker as its owner sees it.
type Subscription struct {
	Ticker     stockalert.Ticker
	Thresholds stockalert.Thresholds
	State      stockalert.AlertState
	// LastAlertedAt is when the last alert was raised; zero if never.
	LastAlertedAt time.Time
}

// Tickers lists the profile's tickers in order.
func (p Profile) Tickers() []stockalert.Ticker {
	out := make([]stockalert.Ticker, len(p.Subscriptions))
	for i, s := range p.Subscriptions {
		out[i] = s.Ticker
	}
	return out
}

// Price is a recorded quote. Currency is the code exactly as the quote source gave it (Yahoo's
// meta.currency: GBp is pence, GBP pounds), and subscriptions' thresholds are in that unit.
type Price struct {
	Ticker   stockalert.Ticker
	Price    float64
	Currency string
	// Time is the quote's time (the source's regularMarketTime), not when it was recorded.
	Time time.Time
	// Stale is set by the handlers that read it for users (LatestPrice, ChatProfile) when Time is
	// older than their Freshness allows: the symbol has not traded for that long.
	Stale bool
	// Simulated is true for a made-up price (QUOTE_SOURCE=simulated): show it as such.
	Simulated bool
	// PreviousClose is the previous regular session's close in Currency, as the quote source gave it
	// with this quote (stockalert.Quote.PreviousClose); 0 when unknown.
	PreviousClose float64
}

// DayChange returns the change from the previous close in Currency (price − previous close), and
// whether it is known.
func (p Price) DayChange() (float64, bool) { return p.quote().DayChange() }

// DayChangePercent returns the change from the previous close in percent of it, and whether it is
// known.
func (p Price) DayChangePercent() (float64, bool) { return p.quote().DayChangePercent() }

func (p Price) quote() stockalert.Quote {
	return stockalert.Quote{Ticker: p.Ticker, Price: p.Price, Currency: p.Currency, Time: p.Time, PreviousClose: p.PreviousClose}
}

// Average is the mean of a ticker's most recent prices from one source, the source of its latest
// price (real and simulated prices are never averaged together); Count is how many were averaged
// (fewer than asked when fewer are recorded from that source), Simulated whether they are made up.
type Average struct {
	Ticker    stockalert.Ticker
	Average   float64
	Count     int
	Simulated bool
}

// Principal is an authenticated user.
type Principal struct {
	UserID int64
	Email  stockalert.Email
}
