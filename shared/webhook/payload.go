package webhook

import (
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// Event types of Payload.Type.
const (
	TypeAlertFired    = "alert.fired"
	TypeSymbolDropped = "symbol.dropped"
)

// Payload is the JSON body of a webhook request: the Standard Webhooks recommended envelope.
type Payload struct {
	// Type is TypeAlertFired or TypeSymbolDropped.
	Type string `json:"type"`
	// Timestamp is when the alert was raised (RFC 3339, UTC): the price's time.
	Timestamp time.Time `json:"timestamp"`
	Data      AlertData `json:"data"`
}

// AlertData describes the alert (stockalert.AlertEvent). Optional fields are absent when unknown or
// not part of the rule's kind.
type AlertData struct {
	// EventID is the alert's id, also sent as the webhook-id header.
	EventID string `json:"event_id"`
	// RuleID and Kind name the rule that fired (kinds: above, below, range, change_pct, move_pct).
	RuleID string `json:"rule_id,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Ticker string `json:"ticker"`
	// Condition is the side that was crossed: "above" or "below" (absent for symbol.dropped).
	Condition string `json:"condition,omitempty"`
	// Level is the price level that was crossed, in Currency (for change_pct the previous close moved by
	// Percent, for move_pct Reference moved by it).
	Level float64 `json:"level,omitempty"`
	// Percent and Direction ("up", "down", "either") for the percent kinds; Reference for move_pct.
	Percent   float64 `json:"percent,omitempty"`
	Direction string  `json:"direction,omitempty"`
	Reference float64 `json:"reference,omitempty"`
	// Price is the last price, in Currency as the quote source quoted it (Yahoo's meta.currency: "GBp"
	// is pence).
	Price    float64 `json:"price,omitempty"`
	Currency string  `json:"currency,omitempty"`
	// PreviousClose, DayChange (Price − PreviousClose, in Currency) and DayChangePercent when known.
	PreviousClose    float64  `json:"previous_close,omitempty"`
	DayChange        *float64 `json:"day_change,omitempty"`
	DayChangePercent *float64 `json:"day_change_percent,omitempty"`
	Note             string   `json:"note,omitempty"`
	// Time is the price's time (RFC 3339, UTC); BreachedSince when the breach began earlier.
	Time          time.Time  `json:"time"`
	BreachedSince *time.Time `json:"breached_since,omitempty"`
	// RuleDone: the rule fired with repeat "once" and is now done.
	RuleDone bool `json:"rule_done"`
}

// NewPayload returns the body for ev and true, or false when ev is not sent to webhooks (a quiet-hours
// summary, a webhook-disabled notice).
func NewPayload(ev stockalert.AlertEvent) (Payload, bool) {
	d := AlertData{
		EventID: ev.EventID, RuleID: ev.RuleID, Kind: string(ev.Kind), Ticker: string(ev.Ticker),
		Price: ev.Price, Currency: ev.Currency, Note: ev.Note, Time: ev.Time.UTC(), RuleDone: ev.RuleDone,
	}
	switch ev.Condition {
	case stockalert.Above, stockalert.Below:
		d.Condition = string(ev.Condition)
		d.Level, d.Percent, d.Direction, d.Reference = ev.Threshold, ev.Percent, string(ev.Direction), ev.Reference
		d.PreviousClose, d.DayChangePercent = ev.PreviousClose, ev.DayChangePercent
		if ev.PreviousClose > 0 {
			change := ev.Price - ev.PreviousClose
			d.DayChange = &change
		}
		if ev.BreachedSince != nil {
			since := ev.BreachedSince.UTC()
			d.BreachedSince = &since
		}
		return Payload{Type: TypeAlertFired, Timestamp: d.Time, Data: d}, true
	case stockalert.SymbolDropped:
		return Payload{Type: TypeSymbolDropped, Timestamp: d.Time, Data: AlertData{EventID: ev.EventID, Ticker: d.Ticker, Time: d.Time}}, true
	default:
		return Payload{}, false
	}
}
