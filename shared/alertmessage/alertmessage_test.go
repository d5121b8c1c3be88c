package alertmessage_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stockalert/stockalert/shared/alertmessage"
	"github.com/stockalert/stockalert/shared/stockalert"
)

var (
	at   = time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	edt  = time.Date(2025, 3, 14, 19, 59, 30, 0, time.FixedZone("EDT", -4*3600))
	at14 = time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC)
)

func pct(v float64) *float64 { return &v }

func ts(t time.Time) *time.Time { return &t }

func TestText(t *testing.T) {
	cases := []struct {
		name string
		ev   stockalert.AlertEvent
		want string
	}{
		// range: today's wording, kept; an event without Kind (an old producer) reads the same.
		{"range above, no kind (old producer)",
			stockalert.AlertEvent{Ticker: "BRK-B", Condition: stockalert.Above, Price: 481.23, Currency: "USD", Threshold: 480, Time: edt},
			"🔔 BRK-B is above your high threshold of 480.00 USD\nPrice: 481.23 USD at 2025-03-14 23:59 UTC"},
		{"range below",
			stockalert.AlertEvent{Kind: stockalert.KindRange, Ticker: "^GSPC", Condition: stockalert.Below, Price: 4999.5, Currency: "USD", Threshold: 5000, Time: edt},
			"🔔 ^GSPC is below your low threshold of 5000.00 USD\nPrice: 4999.50 USD at 2025-03-14 23:59 UTC"},
		{"range with the day change",
			stockalert.AlertEvent{Kind: stockalert.KindRange, Ticker: "AAPL", Condition: stockalert.Above, Price: 201.3, Currency: "USD", Threshold: 200,
				Time: at, PreviousClose: 198.81, DayChangePercent: pct(1.2524521)},
			"🔔 AAPL is above your high threshold of 200.00 USD\nPrice: 201.30 USD (+1.25% today) at 2026-03-02 14:30 UTC"},
		{"no currency, no time",
			stockalert.AlertEvent{Ticker: "EURUSD=X", Condition: stockalert.Below, Price: 1.08745, Threshold: 1.09},
			"🔔 EURUSD=X is below your low threshold of 1.09\nPrice: 1.08745"},
		{"large prices keep the format (no digit grouping)",
			stockalert.AlertEvent{Kind: stockalert.KindAbove, Ticker: "BTC-USD", Condition: stockalert.Above, Price: 101234.5, Currency: "USD", Threshold: 100000, Time: at},
			"🔔 BTC-USD is above 100000.00 USD\nPrice: 101234.50 USD at 2026-03-02 14:30 UTC"},

		// above / below
		{"above",
			stockalert.AlertEvent{Kind: stockalert.KindAbove, Ticker: "AAPL", Condition: stockalert.Above, Price: 201.3, Currency: "USD", Threshold: 200,
				Time: at, PreviousClose: 198.81, DayChangePercent: pct(1.2524521)},
			"🔔 AAPL is above 200.00 USD\nPrice: 201.30 USD (+1.25% today) at 2026-03-02 14:30 UTC"},
		{"below, day change derived from the previous close",
			stockalert.AlertEvent{Kind: stockalert.KindBelow, Ticker: "AAPL", Condition: stockalert.Below, Price: 149.5, Currency: "USD", Threshold: 150,
				Time: at, PreviousClose: 152},
			"🔔 AAPL is below 150.00 USD\nPrice: 149.50 USD (-1.64% today) at 2026-03-02 14:30 UTC"},
		{"unknown previous close: no day change",
			stockalert.AlertEvent{Kind: stockalert.KindBelow, Ticker: "AAPL", Condition: stockalert.Below, Price: 149.5, Currency: "USD", Threshold: 150, Time: at},
			"🔔 AAPL is below 150.00 USD\nPrice: 149.50 USD at 2026-03-02 14:30 UTC"},

		// change_pct: the percent and direction, the previous close shown.
		{"change_pct down",
			stockalert.AlertEvent{Kind: stockalert.KindChangePct, Ticker: "MSFT", Condition: stockalert.Below, Price: 387.1, Currency: "USD",
				Threshold: 387.58, Percent: 3, Direction: stockalert.DirectionDown, PreviousClose: 399.57, DayChangePercent: pct(-3.1208549), Time: at},
			"🔔 MSFT is down 3.12% today, past your 3% alert\nPrice: 387.10 USD at 2026-03-02 14:30 UTC (previous close 399.57 USD)"},
		{"change_pct up, either direction, fractional percent",
			stockalert.AlertEvent{Kind: stockalert.KindChangePct, Ticker: "MSFT", Condition: stockalert.Above, Price: 410, Currency: "USD",
				Threshold: 409.56, Percent: 2.5, Direction: stockalert.DirectionEither, PreviousClose: 399.57, Time: at},
			"🔔 MSFT is up 2.61% today, past your 2.5% alert\nPrice: 410.00 USD at 2026-03-02 14:30 UTC (previous close 399.57 USD)"},

		// move_pct: moved how far from the reference.
		{"move_pct up",
			stockalert.AlertEvent{Kind: stockalert.KindMovePct, Ticker: "NVDA", Condition: stockalert.Above, Price: 126.77, Currency: "USD",
				Threshold: 126.525, Percent: 5, Reference: 120.5, Time: at},
			"🔔 NVDA has moved up 5.20% from 120.50 USD, past your 5% alert\nPrice: 126.77 USD at 2026-03-02 14:30 UTC"},
		{"move_pct down, with the day change",
			stockalert.AlertEvent{Kind: stockalert.KindMovePct, Ticker: "NVDA", Condition: stockalert.Below, Price: 114, Currency: "USD",
				Threshold: 114.475, Percent: 5, Reference: 120.5, PreviousClose: 116, Time: at},
			"🔔 NVDA has moved down 5.39% from 120.50 USD, past your 5% alert\nPrice: 114.00 USD (-1.72% today) at 2026-03-02 14:30 UTC"},

		// Repeats say since when: the time alone on the same UTC day, the date too otherwise.
		{"repeat, same day",
			stockalert.AlertEvent{Kind: stockalert.KindAbove, Ticker: "AAPL", Condition: stockalert.Above, Price: 203, Currency: "USD", Threshold: 200,
				Time: at, BreachedSince: ts(at14)},
			"🔔 AAPL is still above 200.00 USD since 14:05 UTC\nPrice: 203.00 USD at 2026-03-02 14:30 UTC"},
		{"repeat of a breach that began the day before",
			stockalert.AlertEvent{Kind: stockalert.KindRange, Ticker: "AAPL", Condition: stockalert.Above, Price: 203, Currency: "USD", Threshold: 200,
				Time: at, BreachedSince: ts(at14.Add(-24 * time.Hour))},
			"🔔 AAPL is still above your high threshold of 200.00 USD since 2026-03-01 14:05 UTC\nPrice: 203.00 USD at 2026-03-02 14:30 UTC"},
		{"repeat of change_pct",
			stockalert.AlertEvent{Kind: stockalert.KindChangePct, Ticker: "MSFT", Condition: stockalert.Below, Price: 386, Currency: "USD",
				Percent: 3, PreviousClose: 399.57, Time: at, BreachedSince: ts(at14)},
			"🔔 MSFT is still down 3.40% today, past your 3% alert, since 14:05 UTC\nPrice: 386.00 USD at 2026-03-02 14:30 UTC (previous close 399.57 USD)"},
		{"repeat of move_pct",
			stockalert.AlertEvent{Kind: stockalert.KindMovePct, Ticker: "NVDA", Condition: stockalert.Above, Price: 127, Currency: "USD",
				Percent: 5, Reference: 120.5, Time: at, BreachedSince: ts(at14)},
			"🔔 NVDA is still up 5.39% from 120.50 USD, past your 5% alert, since 14:05 UTC\nPrice: 127.00 USD at 2026-03-02 14:30 UTC"},

		// A once rule says, in the same message, that it is done; a note is shown on its own line.
		{"done rule with a note",
			stockalert.AlertEvent{Kind: stockalert.KindBelow, Ticker: "AAPL", Condition: stockalert.Below, Price: 149.5, Currency: "USD", Threshold: 150,
				Time: at, Note: "buy the dip", RuleDone: true},
			"🔔 AAPL is below 150.00 USD\nPrice: 149.50 USD at 2026-03-02 14:30 UTC\nNote: buy the dip\nThis alert was set to fire once and is now done."},
		{"a note stays on its line",
			stockalert.AlertEvent{Kind: stockalert.KindAbove, Ticker: "AAPL", Condition: stockalert.Above, Price: 201, Currency: "USD", Threshold: 200,
				Time: at, Note: " trim\nbefore earnings\t"},
			"🔔 AAPL is above 200.00 USD\nPrice: 201.00 USD at 2026-03-02 14:30 UTC\nNote: trim before earnings"},

		// Minor units as Yahoo quotes them: the code as quoted, its word on the price, never GBP/ZAR/ILS.
		{"GBp range",
			stockalert.AlertEvent{Ticker: "VOD.L", Condition: stockalert.Above, Price: 72.5, Currency: "GBp", Threshold: 70, Time: edt},
			"🔔 VOD.L is above your high threshold of 70.00 GBp\nPrice: 72.50 GBp (pence) at 2025-03-14 23:59 UTC"},
		{"GBp change_pct",
			stockalert.AlertEvent{Kind: stockalert.KindChangePct, Ticker: "VOD.L", Condition: stockalert.Below, Price: 72.5, Currency: "GBp",
				Percent: 2, PreviousClose: 74.02, Time: at},
			"🔔 VOD.L is down 2.05% today, past your 2% alert\nPrice: 72.50 GBp (pence) at 2026-03-02 14:30 UTC (previous close 74.02 GBp)"},
		{"ZAc below",
			stockalert.AlertEvent{Kind: stockalert.KindBelow, Ticker: "NPN.JO", Condition: stockalert.Below, Price: 301520, Currency: "ZAc", Threshold: 310000},
			"🔔 NPN.JO is below 310000.00 ZAc\nPrice: 301520.00 ZAc (South African cents)"},
		{"ILA range",
			stockalert.AlertEvent{Ticker: "TEVA.TA", Condition: stockalert.Above, Price: 5320, Currency: "ILA", Threshold: 5000},
			"🔔 TEVA.TA is above your high threshold of 5000.00 ILA\nPrice: 5320.00 ILA (agorot)"},
		{"symbols pass as they are",
			stockalert.AlertEvent{Ticker: "M&M.NS", Condition: stockalert.Above, Price: 3120.4, Currency: "INR", Threshold: 3000},
			"🔔 M&M.NS is above your high threshold of 3000.00 INR\nPrice: 3120.40 INR"},

		// The notice of a symbol the collector dropped (accepted unverified, then found unknown).
		{"symbol dropped",
			stockalert.AlertEvent{Ticker: "ZZZQ", Condition: stockalert.SymbolDropped, Time: edt},
			"⚠️ ZZZQ is not a symbol the quote source knows: no price was found for it, so it was removed from your " +
				"watch list. Check the symbol and add it again."},
		// The notice of a webhook turned off after consecutive failures (command.LimitChannelFailures).
		{"webhook disabled",
			stockalert.AlertEvent{Condition: stockalert.WebhookDisabled, Time: edt,
				Note: "10 deliveries in a row failed; the last: your endpoint answered 410 Gone"},
			"⚠️ Your webhook was turned off because alerts could not be delivered to it (10 deliveries in a row failed; " +
				"the last: your endpoint answered 410 Gone). Alerts still reach your other channels. Fix the endpoint and " +
				"register it again (PUT /users/{email}/webhook) to turn it back on."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := alertmessage.Text(tc.ev, time.UTC); got != tc.want {
				t.Errorf("Text(%+v) =\n%s\nwant\n%s", tc.ev, got, tc.want)
			}
		})
	}
}

// Texts stay short: the longest (a repeat of a done move rule with a note of the largest size) fits
// one Telegram message many times over and a phone screen without scrolling.
func TestTextIsShort(t *testing.T) {
	ev := stockalert.AlertEvent{Kind: stockalert.KindMovePct, Ticker: "T000000000000000", Condition: stockalert.Below,
		Price: 123456789.125, Currency: "ZAc", Percent: 999.5, Reference: 999999999, PreviousClose: 999999, Time: at,
		BreachedSince: ts(at14.Add(-48 * time.Hour)), Note: strings.Repeat("é", stockalert.MaxNoteRunes), RuleDone: true}
	got := alertmessage.Text(ev, time.UTC)
	if n := utf8.RuneCountInString(got); n > 500 {
		t.Errorf("%d characters:\n%s", n, got)
	}
	if lines := strings.Count(got, "\n") + 1; lines != 4 {
		t.Errorf("%d lines, want 4:\n%s", lines, got)
	}
}

func TestActions(t *testing.T) {
	fired := stockalert.AlertEvent{RuleID: "42", Ticker: "AAPL", Condition: stockalert.Above, Price: 201, Threshold: 200}
	got := alertmessage.Actions(fired)
	if len(got) != 2 || got[0] != alertmessage.ActionSnooze || got[1] != alertmessage.ActionDelete {
		t.Fatalf("Actions of a fired rule = %v", got)
	}
	if got[0].Label() != "Snooze 1h" || got[1].Label() != "Delete alert" {
		t.Errorf("labels %q, %q", got[0].Label(), got[1].Label())
	}
	dropped := stockalert.AlertEvent{RuleID: "42", Ticker: "ZZZQ", Condition: stockalert.SymbolDropped}
	noRule := fired
	noRule.RuleID = ""
	if a := alertmessage.Actions(dropped); a != nil {
		t.Errorf("a symbol-dropped notice offers %v", a)
	}
	if a := alertmessage.Actions(noRule); a != nil {
		t.Errorf("an alert without a rule id offers %v", a)
	}
}

// Times are written in the reader's zone: the same alert reads 14:30 UTC for a UTC user, 15:30 CET in
// Paris; a breach that began at 22:30 UTC on 1 March began on the alert's day in Tokyo (07:30 JST on 2
// March), so only the time shows there.
func TestTextInTheReadersZone(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	ev := stockalert.AlertEvent{Kind: stockalert.KindAbove, Ticker: "AAPL", Condition: stockalert.Above, Price: 201.3, Currency: "USD",
		Threshold: 200, Time: at, BreachedSince: ts(time.Date(2026, 3, 1, 22, 30, 0, 0, time.UTC))}
	for _, c := range []struct {
		loc  *time.Location
		want string
	}{
		{nil, "🔔 AAPL is still above 200.00 USD since 2026-03-01 22:30 UTC\nPrice: 201.30 USD at 2026-03-02 14:30 UTC"},
		{time.UTC, "🔔 AAPL is still above 200.00 USD since 2026-03-01 22:30 UTC\nPrice: 201.30 USD at 2026-03-02 14:30 UTC"},
		{paris, "🔔 AAPL is still above 200.00 USD since 2026-03-01 23:30 CET\nPrice: 201.30 USD at 2026-03-02 15:30 CET"},
		{tokyo, "🔔 AAPL is still above 200.00 USD since 07:30 JST\nPrice: 201.30 USD at 2026-03-02 23:30 JST"},
	} {
		if got := alertmessage.Text(ev, c.loc); got != c.want {
			t.Errorf("in %v:\n got %q\nwant %q", c.loc, got, c.want)
		}
	}
}

func TestSummary(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	held := []stockalert.AlertEvent{
		{Kind: stockalert.KindAbove, Ticker: "AAPL", Condition: stockalert.Above, Price: 201.3, Currency: "USD", Threshold: 200,
			Time: time.Date(2026, 3, 1, 22, 10, 0, 0, time.UTC)},
		{Kind: stockalert.KindRange, Ticker: "MSFT", Condition: stockalert.Below, Price: 398.1, Currency: "USD", Threshold: 400,
			Time: time.Date(2026, 3, 2, 5, 45, 0, 0, time.UTC)},
		{Ticker: "ZZZQ", Condition: stockalert.SymbolDropped, Time: time.Date(2026, 3, 2, 5, 50, 0, 0, time.UTC)},
	}
	want := `🌙 Your quiet hours are over. 3 alerts fired meanwhile (times in CET):
Mar 1 23:10 AAPL is above 200.00 USD, price 201.30 USD
06:45 MSFT is below your low threshold of 400.00 USD, price 398.10 USD
06:50 ZZZQ was removed from your watch list: the quote source does not know it`
	if got := alertmessage.Summary(held, paris); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	want = `🌙 Your quiet hours are over. 1 alert fired meanwhile (times in UTC):
22:10 AAPL is above 200.00 USD, price 201.30 USD`
	if got := alertmessage.Summary(held[:1], nil); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	many := make([]stockalert.AlertEvent, alertmessage.MaxSummaryLines+5)
	for i := range many {
		many[i] = held[0]
	}
	got := alertmessage.Summary(many, time.UTC)
	if !strings.HasSuffix(got, "\n… and 5 more: see /history") || strings.Count(got, "\n") != alertmessage.MaxSummaryLines+1 {
		t.Errorf("long summary:\n%s", got)
	}
}
