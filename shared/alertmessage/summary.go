package alertmessage

import (
	"fmt"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// MaxSummaryLines bounds the alerts a quiet-hours summary lists one by one; the rest are counted.
const MaxSummaryLines = 30

// Summary renders the one message that sums up the alerts held during the user's quiet hours, oldest
// first, times in loc (nil is UTC) with the date when an alert is not of the last one's day:
//
//	🌙 Your quiet hours are over. 2 alerts fired meanwhile (times in CET):
//	Mar 1 23:10 AAPL is above 200.00 USD, price 201.30 USD
//	06:45 MSFT is below your low threshold of 400.00 USD, price 398.10 USD
//
// A list longer than MaxSummaryLines ends with "… and N more: see /history".
func Summary(held []stockalert.AlertEvent, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	var b strings.Builder
	last := time.Time{}
	if len(held) > 0 {
		last = held[len(held)-1].Time.In(loc)
	}
	zone := last.Format("MST")
	if last.IsZero() {
		zone = loc.String()
	}
	fmt.Fprintf(&b, "🌙 Your quiet hours are over. %s fired meanwhile (times in %s):", plural(len(held), "alert"), zone)
	for i, ev := range held {
		if i == MaxSummaryLines {
			fmt.Fprintf(&b, "\n… and %d more: see /history", len(held)-i)
			break
		}
		b.WriteString("\n")
		if !ev.Time.IsZero() {
			t := ev.Time.In(loc)
			if t.Year() == last.Year() && t.YearDay() == last.YearDay() {
				b.WriteString(t.Format("15:04 "))
			} else {
				b.WriteString(t.Format("Jan 2 15:04 "))
			}
		}
		if ev.Condition == stockalert.SymbolDropped {
			fmt.Fprintf(&b, "%s was removed from your watch list: the quote source does not know it", ev.Ticker)
			continue
		}
		if ev.Condition == stockalert.WebhookDisabled {
			b.WriteString("your webhook was turned off: alerts could not be delivered to it")
			continue
		}
		fmt.Fprintf(&b, "%s, price %s", headline(ev, loc), level(ev.Price, ev.Currency))
	}
	return b.String()
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
