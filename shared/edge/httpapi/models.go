package httpapi

import (
	"math"
	"time"

	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// The JSON the API answers with. Field names are snake_case; times are RFC 3339 in UTC.

// userJSON is a user's profile.
type userJSON struct {
	Email                 string             `json:"email"`
	TelegramLinked        bool               `json:"telegram_linked"`
	TelegramChatID        *int64             `json:"telegram_chat_id,omitempty"`
	NotifyIntervalSeconds int64              `json:"notify_interval_seconds"`
	Paused                bool               `json:"paused"`
	CreatedAt             time.Time          `json:"created_at"`
	Subscriptions         []subscriptionJSON `json:"subscriptions"`
}

// subscriptionJSON is one watched ticker; a bound that is not watched is null.
type subscriptionJSON struct {
	Ticker        string     `json:"ticker"`
	HighValue     *float64   `json:"high_value"`
	LowValue      *float64   `json:"low_value"`
	AlertState    string     `json:"alert_state"`
	LastAlertedAt *time.Time `json:"last_alerted_at,omitempty"`
}

// registrationJSON answers a registration: the profile, the API token and the Telegram link code, the
// only time either secret is shown; notice, when present, says in plain words that nothing will alert
// yet (no ticker, or a ticker without a threshold) and how to add a rule.
type registrationJSON struct {
	userJSON
	Token string `json:"token"`
	linkCodeJSON
	Notice string `json:"notice,omitempty"`
}

// registrationNotice is the notice of a registration answer: empty when a subscription of u has a
// bound; otherwise what to do so that something alerts.
func registrationNotice(u userJSON) string {
	if len(u.Subscriptions) == 0 {
		return "no ticker watched yet: nothing will alert until you add one with a threshold " +
			"(PUT /users/" + u.Email + "/tickers/{ticker} with high_value and/or low_value)"
	}
	for _, s := range u.Subscriptions {
		if s.HighValue != nil || s.LowValue != nil {
			return ""
		}
	}
	s := u.Subscriptions[0]
	return s.Ticker + " is watched without a threshold: nothing will alert until you set high_value " +
		"and/or low_value (PUT /users/" + u.Email + "/tickers/" + s.Ticker + ")"
}

// linkCodeJSON is a one-time Telegram link code and, when the bot's username is known, the deep link
// that sends it to the bot.
type linkCodeJSON struct {
	TelegramLinkCode string `json:"telegram_link_code"`
	TelegramLink     string `json:"telegram_link,omitempty"`
}

// priceJSON is a recorded price: currency is the code exactly as the quote carried it (GBp is pence,
// GBP pounds) and thresholds are in that unit; time is the quote's; stale is true when the quote is
// older than QUOTE_MAX_AGE (the symbol has stopped trading: renamed, delisted, suspended); simulated
// is present, true, only for a made-up price (QUOTE_SOURCE=simulated). previous_close (the previous
// regular session's close, as the quote source gave it with this price), day_change (price −
// previous_close, in currency, rounded to 6 decimals) and day_change_percent (day_change in percent
// of previous_close, rounded to 4 decimals) are present only when the previous close is known.
type priceJSON struct {
	Ticker           string    `json:"ticker"`
	Price            float64   `json:"price"`
	Currency         string    `json:"currency"`
	PreviousClose    *float64  `json:"previous_close,omitempty"`
	DayChange        *float64  `json:"day_change,omitempty"`
	DayChangePercent *float64  `json:"day_change_percent,omitempty"`
	Time             time.Time `json:"time"`
	Stale            bool      `json:"stale"`
	Simulated        bool      `json:"simulated,omitempty"`
}

// averageJSON is the mean of the last Count recorded prices of one source, the latest price's;
// simulated is present, true, when they are made up.
type averageJSON struct {
	Ticker    string  `json:"ticker"`
	Average   float64 `json:"average"`
	Count     int     `json:"count"`
	Simulated bool    `json:"simulated,omitempty"`
}

func newUserJSON(p query.Profile) userJSON {
	u := userJSON{
		Email:                 string(p.Email),
		TelegramLinked:        p.TelegramChatID != nil,
		TelegramChatID:        p.TelegramChatID,
		NotifyIntervalSeconds: int64(p.NotifyInterval / time.Second),
		Paused:                p.Paused,
		CreatedAt:             p.CreatedAt.UTC(),
		Subscriptions:         make([]subscriptionJSON, len(p.Subscriptions)),
	}
	for i, s := range p.Subscriptions {
		sj := subscriptionJSON{
			Ticker:     string(s.Ticker),
			HighValue:  s.Thresholds.High,
			LowValue:   s.Thresholds.Low,
			AlertState: string(s.State),
		}
		if !s.LastAlertedAt.IsZero() {
			t := s.LastAlertedAt.UTC()
			sj.LastAlertedAt = &t
		}
		u.Subscriptions[i] = sj
	}
	return u
}

func newPriceJSON(p query.Price) priceJSON {
	out := priceJSON{Ticker: string(p.Ticker), Price: p.Price, Currency: p.Currency, Time: p.Time.UTC(), Stale: p.Stale, Simulated: p.Simulated}
	if change, known := p.DayChange(); known {
		pct, _ := p.DayChangePercent()
		out.PreviousClose = stockalert.Float(p.PreviousClose)
		out.DayChange = stockalert.Float(roundTo(change, 6))
		out.DayChangePercent = stockalert.Float(roundTo(pct, 4))
	}
	return out
}

// roundTo rounds v to the given number of decimals, so that 201.3 − 198.81 reads 2.49, not
// 2.490000000000009.
func roundTo(v float64, decimals int) float64 {
	scale := math.Pow10(decimals)
	return math.Round(v*scale) / scale
}

func newAverageJSON(a query.Average) averageJSON {
	return averageJSON{Ticker: string(a.Ticker), Average: a.Average, Count: a.Count, Simulated: a.Simulated}
}
