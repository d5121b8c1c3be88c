package httpapi

import (
	"time"

	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// ruleJSON is one alert rule: id (an opaque string), ticker, kind and every field of its kind —
// high_value and low_value (null when not watched) for a range, level for above and below; percent and
// direction for change_pct; percent, direction and reference for move_pct — then repeat, expires_at
// (null for never), note, channels (absent: every channel the user enabled), state (armed, triggered,
// done) and created_at.
type ruleJSON struct {
	ID     string `json:"id"`
	Ticker string `json:"ticker"`
	Kind   string `json:"kind"`
	// HighValue and LowValue are a range's: the outer pointer says whether the field is shown, the
	// inner one is null for a bound not watched.
	HighValue **float64  `json:"high_value,omitempty"`
	LowValue  **float64  `json:"low_value,omitempty"`
	Level     *float64   `json:"level,omitempty"`
	Percent   *float64   `json:"percent,omitempty"`
	Direction string     `json:"direction,omitempty"`
	Reference *float64   `json:"reference,omitempty"`
	Repeat    string     `json:"repeat"`
	ExpiresAt *time.Time `json:"expires_at"`
	Note      string     `json:"note"`
	Channels  []string   `json:"channels,omitempty"`
	State     string     `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
}

func newRuleJSON(r stockalert.Rule, state stockalert.RuleState) ruleJSON {
	j := ruleJSON{
		ID: stockalert.RuleIDString(r.ID), Ticker: string(r.Ticker), Kind: string(r.Kind),
		Repeat: string(r.Repeat), Note: r.Note, State: string(state), CreatedAt: r.CreatedAt.UTC(),
	}
	switch r.Kind {
	case stockalert.KindRange:
		j.HighValue, j.LowValue = &r.Thresholds.High, &r.Thresholds.Low
	case stockalert.KindAbove, stockalert.KindBelow:
		j.Level = &r.Level
	case stockalert.KindChangePct, stockalert.KindMovePct:
		j.Percent, j.Direction = &r.Percent, string(r.Direction)
		if r.Kind == stockalert.KindMovePct {
			j.Reference = &r.Reference
		}
	}
	j.ExpiresAt = optionalTime(r.ExpiresAt)
	for _, c := range r.Channels {
		j.Channels = append(j.Channels, string(c))
	}
	return j
}

// optionalTime is t in UTC, or nil for the zero time.
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// ruleViewJSON is a rule as GET …/alerts lists it: the rule, when it last fired (null for never) and
// its ticker's latest recorded price (null when none is recorded yet).
type ruleViewJSON struct {
	ruleJSON
	LastTriggeredAt *time.Time     `json:"last_triggered_at"`
	Latest          *rulePriceJSON `json:"latest"`
}

// rulePriceJSON is a ticker's latest recorded price with its day change: previous_close is the
// previous regular session's close (Yahoo's chart meta.chartPreviousClose), day_change and
// day_change_percent the change from it (in the currency, and in percent); the three are null when the
// previous close is not recorded.
type rulePriceJSON struct {
	priceJSON
	PreviousClose    *float64 `json:"previous_close"`
	DayChange        *float64 `json:"day_change"`
	DayChangePercent *float64 `json:"day_change_percent"`
}

func newRuleViewJSON(v query.RuleView) ruleViewJSON {
	j := ruleViewJSON{ruleJSON: newRuleJSON(v.Rule, v.State), LastTriggeredAt: optionalTime(v.Rule.LastAlertedAt)}
	if q := v.Quote; q != nil {
		p := rulePriceJSON{priceJSON: priceJSON{Ticker: string(q.Ticker), Price: q.Price, Currency: q.Currency,
			Time: q.Time.UTC(), Stale: v.Stale, Simulated: q.Simulated()}}
		if change, ok := q.DayChange(); ok {
			pct, _ := q.DayChangePercent()
			p.PreviousClose, p.DayChange, p.DayChangePercent = stockalert.Float(q.PreviousClose), &change, &pct
		}
		j.Latest = &p
	}
	return j
}

// alertJSON is one alert of the history: when it was raised, the rule and what it saw — the price
// with its currency, the level crossed (the bound, or the level a percent rule reached), percent and
// direction for the percent kinds, the day change when known, rule_done when the rule was done after
// it — and the delivery outcome per channel.
type alertJSON struct {
	Time             time.Time      `json:"time"`
	RuleID           string         `json:"rule_id"`
	Ticker           string         `json:"ticker"`
	Kind             string         `json:"kind"`
	Condition        string         `json:"condition"`
	Price            float64        `json:"price"`
	Currency         string         `json:"currency"`
	Level            float64        `json:"level"`
	Percent          *float64       `json:"percent,omitempty"`
	Direction        string         `json:"direction,omitempty"`
	DayChangePercent *float64       `json:"day_change_percent,omitempty"`
	RuleDone         bool           `json:"rule_done"`
	Deliveries       []deliveryJSON `json:"deliveries"`
}

// deliveryJSON is an alert's outcome on one channel (today "telegram"): sent, undeliverable (with
// the reason) or pending.
type deliveryJSON struct {
	Channel string `json:"channel"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

func newAlertJSON(a query.RaisedAlert) alertJSON {
	j := alertJSON{
		Time: a.RaisedAt.UTC(), RuleID: stockalert.RuleIDString(a.RuleID), Ticker: string(a.Ticker), Kind: string(a.Kind),
		Condition: string(a.Condition), Price: a.Price, Currency: a.Currency, Level: a.Threshold,
		Direction: string(a.Direction), DayChangePercent: a.DayChangePercent, RuleDone: a.RuleDone,
		Deliveries: make([]deliveryJSON, len(a.Deliveries)),
	}
	if a.Percent != 0 {
		j.Percent = stockalert.Float(a.Percent)
	}
	for i, d := range a.Deliveries {
		j.Deliveries[i] = deliveryJSON{Channel: d.Channel, Outcome: string(d.Outcome), Reason: d.Reason}
	}
	return j
}
