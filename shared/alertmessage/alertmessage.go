// Package alertmessage renders alert events as the text people read, for every channel: Telegram
// today, the e-mail and webhook channels of a later issue. It knows the domain's events only; a
// channel adapter sends what it renders.
//
// Texts are plain (no markup, nothing to escape) and short: a headline naming the ticker and what
// fired, a line with the price, then, only when they apply, the rule's note and a line saying the rule
// is done. Prices keep the house format (stockalert.FormatPrice: 1000.00, no digit grouping), with
// the currency code exactly as quoted and, for a minor unit, its word (stockalert.FormatAmount: 72.50
// GBp (pence)). Times are in the reader's time zone, given to Text, with the zone's abbreviation
// (2006-01-02 15:04 UTC, 2006-01-02 15:04 CET).
package alertmessage

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// Text renders ev. The headline depends on the rule's kind (an event without Kind, from a producer
// that predates rules, reads as a range):
//
//	range       🔔 AAPL is above your high threshold of 200.00 USD
//	above       🔔 AAPL is above 200.00 USD
//	below       🔔 AAPL is below 150.00 USD
//	change_pct  🔔 MSFT is down 3.12% today, past your 3% alert
//	move_pct    🔔 NVDA has moved up 5.20% from 120.50 USD, past your 5% alert
//
// A repeat while the breach lasts (BreachedSince set) says since when: "🔔 AAPL is still above
// 200.00 USD since 14:05 UTC" (the date too when the breach began on another day than ev.Time, in loc).
//
// The second line is the price, its day change when known and the time: "Price: 201.30 USD (+1.25%
// today) at 2026-03-02 14:30 UTC"; for change_pct, whose headline is the day change, it names the
// previous close instead: "Price: 387.10 USD at 2026-03-02 14:30 UTC (previous close 399.57 USD)".
// Then "Note: …" when the rule has a note, and, when the rule fired with repeat "once" (RuleDone),
// "This alert was set to fire once and is now done."
//
// A stockalert.SymbolDropped notice says the ticker was removed from the watch list; a
// stockalert.WebhookDisabled notice that the webhook was turned off, why (its Note) and how to turn it
// on again.
//
// Times are written in loc (the user's zone, stockalert.User.Location; nil is UTC), so a UTC reader's
// text is "… at 2026-03-02 14:30 UTC" and a Paris reader's "… at 2026-03-02 15:30 CET".
func Text(ev stockalert.AlertEvent, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	if ev.Condition == stockalert.SymbolDropped {
		return fmt.Sprintf("⚠️ %s is not a symbol the quote source knows: no price was found for it, so it was removed "+
			"from your watch list. Check the symbol and add it again.", ev.Ticker)
	}
	if ev.Condition == stockalert.WebhookDisabled {
		return webhookDisabled(ev)
	}
	var b strings.Builder
	b.WriteString("🔔 ")
	b.WriteString(headline(ev, loc))
	b.WriteString("\nPrice: ")
	b.WriteString(stockalert.FormatAmount(ev.Price, ev.Currency))
	if ev.Kind != stockalert.KindChangePct {
		if pct, known := dayChangePercent(ev); known {
			fmt.Fprintf(&b, " (%s today)", signedPercent(pct))
		}
	}
	if !ev.Time.IsZero() {
		b.WriteString(" at ")
		b.WriteString(ev.Time.In(loc).Format(dateTime))
	}
	if ev.Kind == stockalert.KindChangePct && ev.PreviousClose > 0 {
		fmt.Fprintf(&b, " (previous close %s)", level(ev.PreviousClose, ev.Currency))
	}
	if note := oneLine(ev.Note); note != "" {
		b.WriteString("\nNote: ")
		b.WriteString(note)
	}
	if ev.RuleDone {
		b.WriteString("\nThis alert was set to fire once and is now done.")
	}
	return b.String()
}

const (
	dateTime  = "2006-01-02 15:04 MST"
	timeOfDay = "15:04 MST"
)

// headline says what fired, without the bell.
func headline(ev stockalert.AlertEvent, loc *time.Location) string {
	side := sideWord(ev.Condition)
	still, since := "", ""
	if ev.BreachedSince != nil && !ev.BreachedSince.IsZero() {
		still, since = "still ", " since "+sinceTime(*ev.BreachedSince, ev.Time, loc)
	}
	switch ev.Kind {
	case stockalert.KindAbove, stockalert.KindBelow:
		return fmt.Sprintf("%s is %s%s %s%s", ev.Ticker, still, side, level(ev.Threshold, ev.Currency), since)
	case stockalert.KindChangePct:
		dir := directionWord(ev.Condition)
		if pct, known := dayChangePercent(ev); known {
			return fmt.Sprintf("%s is %s%s %s today, past your %s alert%s", ev.Ticker, still, dir, unsignedPercent(pct), percent(ev.Percent), commaSince(since))
		}
		return fmt.Sprintf("%s is %s%s today past your %s alert%s", ev.Ticker, still, dir, percent(ev.Percent), commaSince(since))
	case stockalert.KindMovePct:
		dir := directionWord(ev.Condition)
		if ev.Reference > 0 {
			moved := (ev.Price - ev.Reference) / ev.Reference * 100
			verb := "has moved"
			if still != "" {
				verb = "is still"
			}
			return fmt.Sprintf("%s %s %s %s from %s, past your %s alert%s", ev.Ticker, verb, dir, unsignedPercent(moved),
				level(ev.Reference, ev.Currency), percent(ev.Percent), commaSince(since))
		}
		return fmt.Sprintf("%s is %s%s %s, past your %s move alert%s", ev.Ticker, still, side, level(ev.Threshold, ev.Currency),
			percent(ev.Percent), commaSince(since))
	default: // range, and events from producers that predate rules
		bound := "your threshold"
		switch ev.Condition {
		case stockalert.Above:
			bound = "your high threshold"
		case stockalert.Below:
			bound = "your low threshold"
		}
		if side == "" {
			return fmt.Sprintf("%s %scrossed %s of %s%s", ev.Ticker, still, bound, level(ev.Threshold, ev.Currency), since)
		}
		return fmt.Sprintf("%s is %s%s %s of %s%s", ev.Ticker, still, side, bound, level(ev.Threshold, ev.Currency), since)
	}
}

// sideWord is "above" or "below" for a breach's side, "" for anything else.
func sideWord(c stockalert.Condition) string {
	switch c {
	case stockalert.Above:
		return "above"
	case stockalert.Below:
		return "below"
	}
	return ""
}

// directionWord is the way a percent rule's price went: "up" for a breach above, "down" below.
func directionWord(c stockalert.Condition) string {
	if c == stockalert.Below {
		return "down"
	}
	return "up"
}

// commaSince sets a "since" clause off after an "alert" clause.
func commaSince(since string) string {
	if since == "" {
		return ""
	}
	return "," + since
}

// sinceTime writes when a breach began, in loc: the time alone when it is the alert's day there, the
// date too otherwise (or when the alert has no time).
func sinceTime(since, at time.Time, loc *time.Location) string {
	since = since.In(loc)
	if !at.IsZero() {
		at = at.In(loc)
		if since.Year() == at.Year() && since.YearDay() == at.YearDay() {
			return since.Format(timeOfDay)
		}
	}
	return since.Format(dateTime)
}

// level writes a price level with its currency code as quoted, without the minor unit's word (the
// price line carries it): 200.00 USD, 70.00 GBp.
func level(v float64, currency string) string {
	if currency == "" {
		return stockalert.FormatPrice(v)
	}
	return stockalert.FormatPrice(v) + " " + currency
}

// dayChangePercent is the event's day change in percent: DayChangePercent as the alert system sent
// it, else derived from the previous close; unknown without either.
func dayChangePercent(ev stockalert.AlertEvent) (float64, bool) {
	if ev.DayChangePercent != nil && !math.IsNaN(*ev.DayChangePercent) && !math.IsInf(*ev.DayChangePercent, 0) {
		return *ev.DayChangePercent, true
	}
	return stockalert.Quote{Price: ev.Price, PreviousClose: ev.PreviousClose}.DayChangePercent()
}

// signedPercent writes a change with its sign and two decimals: +1.25%, -3.12%.
func signedPercent(v float64) string { return fmt.Sprintf("%+.2f%%", v) }

// unsignedPercent writes a change's size with two decimals (the words say the direction): 3.12%.
func unsignedPercent(v float64) string { return fmt.Sprintf("%.2f%%", math.Abs(v)) }

// percent writes a rule's percent as the user gave it: 3%, 2.5%.
func percent(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }

// oneLine keeps a note on its line: control characters (line breaks, tabs) become spaces, and the
// ends are trimmed.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// Action is something the reader of an alert can do about the rule that fired, from the message itself
// (a channel shows it its own way: Telegram as a button under the message).
type Action string

// The actions an alert offers.
const (
	// ActionSnooze keeps the rule from firing for SnoozeFor.
	ActionSnooze Action = "snooze"
	// ActionDelete deletes the rule.
	ActionDelete Action = "delete"
)

// SnoozeFor is how long ActionSnooze keeps a rule quiet.
const SnoozeFor = time.Hour

// Label returns the action's text for a button: "Snooze 1h", "Delete alert".
func (a Action) Label() string {
	switch a {
	case ActionSnooze:
		return "Snooze 1h"
	case ActionDelete:
		return "Delete alert"
	}
	return string(a)
}

// Actions returns what the reader of ev can do about its rule, in the order to show them: snooze it and
// delete it; none for a stockalert.SymbolDropped notice (no rule fired) or an event without a rule id
// (from a producer that predates rules).
func Actions(ev stockalert.AlertEvent) []Action {
	if ev.Condition == stockalert.SymbolDropped || ev.RuleID == "" {
		return nil
	}
	return []Action{ActionSnooze, ActionDelete}
}

// webhookDisabled is the text of a stockalert.WebhookDisabled notice.
func webhookDisabled(ev stockalert.AlertEvent) string {
	why := ""
	if ev.Note != "" {
		why = " (" + ev.Note + ")"
	}
	return "⚠️ Your webhook was turned off because alerts could not be delivered to it" + why + ". Alerts still " +
		"reach your other channels. Fix the endpoint and register it again (PUT /users/{email}/webhook) to turn it back on."
}
