package stockalert_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

var t0 = time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)

func TestRuleValidate(t *testing.T) {
	ok := []stockalert.Rule{
		{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 200},
		{Ticker: "AAPL", Kind: stockalert.KindBelow, Level: 0.0001, Repeat: stockalert.RepeatOnce},
		{Ticker: "MSFT", Kind: stockalert.KindChangePct, Percent: 3, Direction: stockalert.DirectionDown},
		{Ticker: "MSFT", Kind: stockalert.KindChangePct, Percent: 1000},
		{Ticker: "NVDA", Kind: stockalert.KindMovePct, Percent: 5, Reference: 120.5, ExpiresAt: t0.Add(time.Hour)},
		{Ticker: "NVDA", Kind: stockalert.KindMovePct, Percent: 99.5, Direction: stockalert.DirectionDown, Reference: 120.5},
		{Ticker: "NVDA", Kind: stockalert.KindMovePct, Percent: 300, Reference: 120.5}, // either: the rise can fire
		{Ticker: "NVDA", Kind: stockalert.KindRange, Thresholds: stockalert.Thresholds{High: stockalert.Float(2)}},
		{Ticker: "NVDA", Kind: stockalert.KindAbove, Level: 1, Note: strings.Repeat("é", stockalert.MaxNoteRunes)},
	}
	for _, r := range ok {
		if err := r.Validate(t0); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
	for _, c := range []struct {
		rule  stockalert.Rule
		field string
	}{
		{stockalert.Rule{Ticker: "", Kind: stockalert.KindAbove, Level: 1}, "ticker"},
		{stockalert.Rule{Ticker: "AAPL"}, "kind"},
		{stockalert.Rule{Ticker: "AAPL", Kind: "crossing"}, "kind"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove}, "level"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: -1}, "level"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: math.Inf(1)}, "level"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindBelow, Level: 2e12}, "level"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 1, Percent: 3}, "percent"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindChangePct}, "percent"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindChangePct, Percent: 1000.5}, "percent"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindChangePct, Percent: math.NaN()}, "percent"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindChangePct, Percent: 2, Direction: "sideways"}, "direction"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindChangePct, Percent: 2, Level: 3}, "level"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindChangePct, Percent: 2, Reference: 3}, "reference"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindMovePct, Percent: 2}, "reference"},
		// A fall of 100 % or more takes the price to 0 or below, which no quote reaches: never fires.
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindMovePct, Percent: 100, Direction: stockalert.DirectionDown, Reference: 10}, "percent"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindMovePct, Percent: 250, Direction: stockalert.DirectionDown, Reference: 10}, "percent"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindRange, Level: 3}, "level"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindRange, Thresholds: stockalert.Thresholds{High: stockalert.Float(1), Low: stockalert.Float(2)}}, "high_value"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 1, Repeat: "always"}, "repeat"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 1, ExpiresAt: t0}, "expires_at"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 1, Note: strings.Repeat("x", stockalert.MaxNoteRunes+1)}, "note"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 1, Note: "\xff"}, "note"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 1, Note: "two\nlines"}, "note"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 1, Note: "esc \x1b[31m"}, "note"},
		{stockalert.Rule{Ticker: "AAPL", Kind: stockalert.KindAbove, Level: 1, Note: "sell \u202eyub"}, "note"},
	} {
		if got := field(c.rule.Validate(t0)); got != c.field {
			t.Errorf("%+v: the error names %q, want %q", c.rule, got, c.field)
		}
	}
}

func TestRuleCheck(t *testing.T) {
	up, down := stockalert.Rule{Kind: stockalert.KindMovePct, Percent: 5, Reference: 120.5}.MoveLevels()
	for _, c := range []struct {
		name      string
		rule      stockalert.Rule
		price     float64
		prevClose float64
		cond      stockalert.Condition
		level     float64
	}{
		{"above: at the level", stockalert.Rule{Kind: stockalert.KindAbove, Level: 200}, 200, 0, "", 0},
		{"above: past it", stockalert.Rule{Kind: stockalert.KindAbove, Level: 200}, 200.01, 0, stockalert.Above, 200},
		{"above: a gap far over", stockalert.Rule{Kind: stockalert.KindAbove, Level: 200}, 900, 0, stockalert.Above, 200},
		{"above: below it", stockalert.Rule{Kind: stockalert.KindAbove, Level: 200}, 10, 0, "", 0},
		{"below: at the level", stockalert.Rule{Kind: stockalert.KindBelow, Level: 100}, 100, 0, "", 0},
		{"below: past it", stockalert.Rule{Kind: stockalert.KindBelow, Level: 100}, 99.99, 0, stockalert.Below, 100},
		{"range: above the high", stockalert.Rule{Kind: stockalert.KindRange, Thresholds: stockalert.Thresholds{High: stockalert.Float(10), Low: stockalert.Float(5)}}, 11, 0, stockalert.Above, 10},
		{"range: below the low", stockalert.Rule{Kind: stockalert.KindRange, Thresholds: stockalert.Thresholds{High: stockalert.Float(10), Low: stockalert.Float(5)}}, 4, 0, stockalert.Below, 5},
		{"change: exactly the percent up", stockalert.Rule{Kind: stockalert.KindChangePct, Percent: 3}, 103, 100, stockalert.Above, 103},
		{"change: just short", stockalert.Rule{Kind: stockalert.KindChangePct, Percent: 3}, 102.99, 100, "", 0},
		{"change: exactly the percent down", stockalert.Rule{Kind: stockalert.KindChangePct, Percent: 3}, 97, 100, stockalert.Below, 97},
		{"change: up, but the rule watches down", stockalert.Rule{Kind: stockalert.KindChangePct, Percent: 3, Direction: stockalert.DirectionDown}, 110, 100, "", 0},
		{"change: down, but the rule watches up", stockalert.Rule{Kind: stockalert.KindChangePct, Percent: 3, Direction: stockalert.DirectionUp}, 90, 100, "", 0},
		{"change: previous close missing", stockalert.Rule{Kind: stockalert.KindChangePct, Percent: 3}, 500, 0, "", 0},
		{"move: exactly at the up level", stockalert.Rule{Kind: stockalert.KindMovePct, Percent: 5, Reference: 120.5}, *up, 0, stockalert.Above, *up},
		{"move: just short", stockalert.Rule{Kind: stockalert.KindMovePct, Percent: 5, Reference: 120.5}, *up - 1e-9, 0, "", 0},
		{"move: exactly at the down level", stockalert.Rule{Kind: stockalert.KindMovePct, Percent: 5, Reference: 120.5}, *down, 0, stockalert.Below, *down},
		{"move: down, but the rule watches up", stockalert.Rule{Kind: stockalert.KindMovePct, Percent: 5, Reference: 120.5, Direction: stockalert.DirectionUp}, 1, 0, "", 0},
		{"move: a fall of 100 % or more watches no down level", stockalert.Rule{Kind: stockalert.KindMovePct, Percent: 100, Reference: 10}, 0.0001, 0, "", 0},
	} {
		cond, level, fired := c.rule.Check(stockalert.Quote{Price: c.price, PreviousClose: c.prevClose})
		if cond != c.cond || fired != (c.cond != "") || math.Abs(level-c.level) > 1e-9 {
			t.Errorf("%s: Check = %q, %v, %v; want %q, %v", c.name, cond, level, fired, c.cond, c.level)
		}
	}
	if *up != 120.5*1.05 || *down != 120.5*0.95 {
		t.Errorf("move levels %v, %v", *up, *down)
	}
}

func TestRuleStateAndRepeat(t *testing.T) {
	r := stockalert.Rule{Kind: stockalert.KindAbove, Level: 1, State: stockalert.Armed}
	if r.StateAt(t0) != stockalert.RuleArmed || !r.ShouldAlert(stockalert.Above, t0, time.Hour) {
		t.Fatal("an armed rule alerts at once")
	}
	r.State, r.LastAlertedAt = stockalert.BreachedAbove, t0
	if r.StateAt(t0) != stockalert.RuleTriggered {
		t.Error("a breached rule is triggered")
	}
	if r.ShouldAlert(stockalert.Above, t0.Add(59*time.Minute), time.Hour) || !r.ShouldAlert(stockalert.Above, t0.Add(time.Hour), time.Hour) {
		t.Error("a repeat waits for the interval")
	}
	if !r.ShouldAlert(stockalert.Below, t0.Add(time.Minute), time.Hour) {
		t.Error("a jump to the other side alerts at once")
	}
	r.ExpiresAt = t0.Add(2 * time.Hour)
	if r.StateAt(t0.Add(2*time.Hour)) != stockalert.RuleDone || r.ShouldAlert(stockalert.Below, t0.Add(2*time.Hour), 0) {
		t.Error("an expired rule is done and never alerts")
	}
	r.ExpiresAt, r.DoneAt = time.Time{}, t0
	if r.StateAt(t0) != stockalert.RuleDone || r.ShouldAlert(stockalert.Below, t0.Add(time.Hour), 0) {
		t.Error("a rule that fired once is done")
	}
	if id, err := stockalert.ParseRuleID(stockalert.RuleIDString(42)); err != nil || id != 42 {
		t.Errorf("round trip: %v %v", id, err)
	}
	for _, bad := range []string{"", "0", "-1", "042", "4x", "99999999999999999999"} {
		if _, err := stockalert.ParseRuleID(bad); field(err) != "id" {
			t.Errorf("ParseRuleID(%q) = %v", bad, err)
		}
	}
}

func TestQuietHours(t *testing.T) {
	paris := stockalert.LoadZone("Europe/Paris")
	night := stockalert.QuietHours{Set: true, Start: 22 * 60, End: 7 * 60} // 22:00-07:00, across midnight
	for _, c := range []struct {
		at   string // UTC
		want bool
	}{
		{"2026-03-02T20:59:00Z", false}, // 21:59 in Paris
		{"2026-03-02T21:00:00Z", true},  // 22:00
		{"2026-03-03T05:59:00Z", true},  // 06:59
		{"2026-03-03T06:00:00Z", false}, // 07:00: the end is not quiet
	} {
		at, _ := time.Parse(time.RFC3339, c.at)
		if got := night.Contains(at, paris); got != c.want {
			t.Errorf("%s: Contains = %v", c.at, got)
		}
	}
	day := stockalert.QuietHours{Set: true, Start: 12 * 60, End: 13 * 60}
	if !day.Contains(time.Date(2026, 3, 2, 12, 30, 0, 0, time.UTC), time.UTC) || day.Contains(time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC), time.UTC) {
		t.Error("a window within the day")
	}
	if (stockalert.QuietHours{}).Contains(t0, time.UTC) || stockalert.LoadZone("Mars/Olympus") != time.UTC || stockalert.LoadZone("") != time.UTC {
		t.Error("no window; unknown zones read as UTC")
	}
}
