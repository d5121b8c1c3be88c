package telegrambot

import (
	"fmt"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

const (
	priceUsage = "/price takes 1 to 5 symbols (Yahoo Finance's), for example /price AAPL or /price AAPL VOD.L BRK-B."
	// pricesUnavailableText: the quote source answered for none of the symbols (unreachable, or its
	// circuit breaker is open).
	pricesUnavailableText = "Prices are unavailable right now: the quote source cannot be reached. Try again in a few minutes."
)

// priceText renders /price: one line per symbol, in the order asked, times in the board's zone.
//
//	AAPL: 201.30 USD, +2.49 (+1.25%) today, at 14:30 UTC
//	VOD.L: 72.50 GBp (pence), -1.52 (-2.05%) on the day, at 2026-03-01 16:35 UTC
//	MSFT: 498.20 USD (simulated) at 14:30 UTC
//	XYZ: not a symbol the quote source knows
//	NVDA: no price right now (the quote source cannot be reached)
//
// The currency code is shown exactly as quoted; the day change (price − previous close, in that unit,
// and in percent) only when the source gave the previous close; "today" for a quote of the reader's
// day, "on the day" for an older one. When no symbol could be priced for want of the source, one line
// says prices are unavailable right now.
func priceText(b query.QuoteBoard, now time.Time) string {
	unavailable := 0
	for _, q := range b.Quotes {
		if q.Status == query.QuoteUnavailable {
			unavailable++
		}
	}
	if unavailable == len(b.Quotes) {
		return pricesUnavailableText
	}
	loc := stockalert.LoadZone(b.TimeZone)
	lines := make([]string, len(b.Quotes))
	for i, q := range b.Quotes {
		lines[i] = quoteLine(q, now, loc)
	}
	return strings.Join(lines, "\n")
}

func quoteLine(c query.CurrentQuote, now time.Time, loc *time.Location) string {
	switch c.Status {
	case query.QuoteUnknown:
		return fmt.Sprintf("%s: not a symbol the quote source knows", c.Ticker)
	case query.QuoteUnavailable:
		return fmt.Sprintf("%s: no price right now (the quote source cannot be reached)", c.Ticker)
	}
	q := c.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", c.Ticker, stockalert.FormatAmount(q.Price, q.Currency))
	if q.Simulated() {
		b.WriteString(" (simulated)")
	}
	change, known := q.DayChange()
	pct, _ := q.DayChangePercent()
	if known {
		fmt.Fprintf(&b, ", %s (%+.2f%%) %s,", signedAmount(change), pct, dayWord(q.Time, now, loc))
	}
	b.WriteString(" at " + formatTimeIn(q.Time, now, loc))
	return b.String()
}

// signedAmount writes a change in the house price format with its sign: +2.49, -1.52.
func signedAmount(v float64) string {
	if v < 0 {
		return "-" + stockalert.FormatPrice(-v)
	}
	return "+" + stockalert.FormatPrice(v)
}

// dayWord is "today" for a time on now's day in loc, "on the day" otherwise.
func dayWord(t, now time.Time, loc *time.Location) string {
	if sameDay(t, now, loc) {
		return "today"
	}
	return "on the day"
}

func sameDay(a, b time.Time, loc *time.Location) bool {
	a, b = a.In(loc), b.In(loc)
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

// formatTimeIn shows t in loc with the zone's abbreviation: the time alone for a time of now's day
// there, the date too otherwise: "14:30 UTC", "2026-03-01 16:35 CET".
func formatTimeIn(t, now time.Time, loc *time.Location) string {
	if sameDay(t, now, loc) {
		return t.In(loc).Format("15:04 MST")
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

const (
	tzUsage    = "Send an IANA time zone name, for example /tz Europe/Paris, /tz America/New_York or /tz UTC."
	quietUsage = "/quiet takes a daily window on the 24-hour clock, in your time zone, for example /quiet 22:00-07:00; " +
		"/quiet off turns quiet hours off."
)

func timeZoneText(zone string) string {
	return "Your time zone is " + stockalert.LoadZone(zone).String() + ": every time I show you is in it. Change it with /tz <zone>, for example /tz Europe/Paris."
}

func timeZoneSetText(zone string, now time.Time) string {
	loc := stockalert.LoadZone(zone)
	return fmt.Sprintf("Done: times are shown in %s from now on (it is %s there now).", loc, now.In(loc).Format("15:04 MST"))
}

func quietText(q stockalert.QuietHours, zone string) string {
	loc := stockalert.LoadZone(zone)
	if !q.Set {
		return fmt.Sprintf("No quiet hours: alerts come as they fire. Set them with /quiet 22:00-07:00 (in your time zone, %s).", loc)
	}
	return fmt.Sprintf("Quiet hours: %s (%s). Alerts that fire then are held, and you get one message summing them up when the quiet hours end. /quiet off turns them off.",
		q, loc)
}

func quietSetText(q stockalert.QuietHours, zone string) string {
	if !q.Set {
		return "Done: no quiet hours, alerts come as they fire."
	}
	return fmt.Sprintf("Done: from %02d:%02d to %02d:%02d (%s) alerts are held, and you get one message summing them up when the quiet hours end.",
		q.Start/60, q.Start%60, q.End/60, q.End%60, stockalert.LoadZone(zone))
}
