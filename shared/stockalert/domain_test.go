package stockalert_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

func field(err error) string {
	if v, ok := stockalert.AsValidation(err); ok {
		return v.Field
	}
	return ""
}

func TestParseTicker(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"AAPL", "AAPL", true},
		{" aapl ", "AAPL", true},
		{"brk-b", "BRK-B", true},
		{"^GSPC", "^GSPC", true},
		{"EURUSD=X", "EURUSD=X", true},
		{"BTC-USD", "BTC-USD", true},
		{"RDS.A", "RDS.A", true},
		{"m&m.ns", "M&M.NS", true},
		{"IL&FSTRANS.NS", "IL&FSTRANS.NS", true},
		{"ES=F", "ES=F", true},
		{"VOD.L", "VOD.L", true},
		{"7203.T", "7203.T", true},
		{"M&M.NS", "M&M.NS", true},
		{"0700.HK", "0700.HK", true},
		{"^N225", "^N225", true},
		{"L&TFH.NS", "L&TFH.NS", true},
		{"J&KBANK.NS", "J&KBANK.NS", true},
		{"A", "A", true},
		// Marks only separate: at least one letter or digit, one last, never two marks in a row.
		{"^", "", false},
		{"A&&&", "", false},
		{"A=", "", false},
		{"A.", "", false},
		{"BRK-", "", false},
		{"M&", "", false},
		{"A..L", "", false},
		{"A.-B", "", false},
		{"EURUSD==X", "", false},
		{"^^GSPC", "", false},
		{"^.A", "", false},
		{"^-", "", false},
		{"=X", "", false},
		{".L", "", false},
		{"&&", "", false},
		{"&M", "", false},
		{"../AAPL", "", false},
		{"AAPL/X", "", false},
		{"AAPL?x=1", "", false},
		{"AAPL#x", "", false},
		{"AAPL%2F", "", false},
		{"AA\tPL", "", false},
		{"AA\u00a0PL", "", false},
		{"ＡＡＰＬ", "", false},
		{"AAPL+B", "", false},
		{"A_B", "", false},
		{strings.Repeat("A", 16), strings.Repeat("A", 16), true},
		{"", "", false},
		{"   ", "", false},
		{strings.Repeat("A", 17), "", false},
		{"AA PL", "", false},
		{"-AAPL", "", false},
		{"AAPL;DROP", "", false},
		{"ÄAPL", "", false},
	} {
		got, err := stockalert.ParseTicker(c.in)
		if c.ok != (err == nil) || string(got) != c.want {
			t.Errorf("ParseTicker(%q) = %q, %v; want %q ok=%t", c.in, got, err, c.want, c.ok)
		}
		if err != nil && field(err) != "ticker" {
			t.Errorf("ParseTicker(%q): error names %q, want ticker", c.in, field(err))
		}
	}
}

func TestParseEmail(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"ada@example.com", "ada@example.com", true},
		{" Ada@Example.COM ", "ada@example.com", true},
		{"a.b+tag@sub.example.org", "a.b+tag@sub.example.org", true},
		{"", "", false},
		{"ada", "", false},
		{"ada@", "", false},
		{"ada@localhost", "", false},
		{"ada@example.", "", false},
		{"Ada <ada@example.com>", "", false},
		{"a@b@example.com", "", false},
		{strings.Repeat("a", 250) + "@x.io", "", false},
		// Invisible and control characters: a second account must not look identical to another.
		{"ada\u200b@example.com", "", false},     // zero-width space (Cf)
		{"ada@exa\u200bmple.com", "", false},     // … in the domain
		{"\u202eada@example.com", "", false},     // right-to-left override (Cf)
		{"ada\u2066@example.com", "", false},     // left-to-right isolate (Cf)
		{"ad\u200da@example.com", "", false},     // zero-width joiner (Cf)
		{"\ufeffada@example.com", "", false},     // byte-order mark (Cf)
		{"ada\u00ad@example.com", "", false},     // soft hyphen (Cf)
		{"ada\x7f@example.com", "", false},       // DEL (Cc)
		{"ada\u0085@example.com", "", false},     // NEL (Cc)
		{"ada\u3164@example.com", "", false},     // Hangul filler (default-ignorable, Lo)
		{"ada\u034f@example.com", "", false},     // combining grapheme joiner (default-ignorable, Mn)
		{"ada\ufe0f@example.com", "", false},     // variation selector
		{"ada\u00a0@example.com", "", false},     // no-break space (Zs)
		{"ada\u2028@example.com", "", false},     // line separator (Zl)
		{"ada\ue000@example.com", "", false},     // private use (Co)
		{"ada\U000e0001@example.com", "", false}, // language tag (Cf)
		{"ada\ufffd@example.com", "", false},     // replacement character: text already damaged
		{"a\xffb@example.com", "", false},        // invalid UTF-8
		{"ada\u2800@example.com", "", false},     // Braille pattern blank (So, renders as nothing)
		{"\u2800@example.com", "", false},        // … as the whole local part
		{"ada@exa\u2800mple.com", "", false},     // … in the domain
		{"ada\u115f@example.com", "", false},     // Hangul choseong filler (default-ignorable)
		{"ada\u1160@example.com", "", false},     // Hangul jungseong filler (default-ignorable)
		{"ada\uffa0@example.com", "", false},     // halfwidth Hangul filler (default-ignorable)
		{"\u3164@example.com", "", false},        // Hangul filler as the whole local part
		// Compatibility variants are folded (NFKC) to the character they stand for: one account.
		{"ａnn@example.com", "ann@example.com", true},         // fullwidth a
		{"ＡＮＮ@ｅｘａｍｐｌｅ.ｃｏｍ", "ann@example.com", true},         // fullwidth throughout
		{"\ufb01ona@example.com", "fiona@example.com", true}, // the ligature ﬁ
		{"ann\u00b2@example.com", "ann2@example.com", true},  // superscript two
		{"ｊｏｓé@example.com", "josé@example.com", true},
		{"a\uff20b@example.com", "", false},  // a fullwidth @ folds into a second @: not an address
		{"ann\u3000@example.com", "", false}, // ideographic space (Zs), refused before folding
		// Internationalised addresses (RFC 6531): local part lower-cased and NFC, domain as IDNA A-labels.
		{"José@example.com", "josé@example.com", true},
		{"Jose\u0301@example.com", "jos\u00e9@example.com", true}, // decomposed é → precomposed
		{"ann@Bücher.de", "ann@xn--bcher-kva.de", true},
		{"ann@xn--bcher-kva.de", "ann@xn--bcher-kva.de", true},
		{"ann@ＢÜＣＨＥＲ.de", "ann@xn--bcher-kva.de", true}, // full-width letters map to ASCII
		{"用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v", true},
		{"ann@b\u00fccher-.de", "", false}, // a label may not end with a hyphen (IDNA)
	} {
		got, err := stockalert.ParseEmail(c.in)
		if c.ok != (err == nil) || string(got) != c.want {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q ok=%t", c.in, got, err, c.want, c.ok)
		}
		if err != nil && field(err) != "email" {
			t.Errorf("ParseEmail(%q): error names %q, want email", c.in, field(err))
		}
	}
}

func TestThresholdsValidate(t *testing.T) {
	f := stockalert.Float
	for _, c := range []struct {
		name  string
		th    stockalert.Thresholds
		field string
	}{
		{"none", stockalert.Thresholds{}, ""},
		{"high only", stockalert.Thresholds{High: f(10)}, ""},
		{"low only", stockalert.Thresholds{Low: f(10)}, ""},
		{"both", stockalert.Thresholds{High: f(10.5), Low: f(10.4)}, ""},
		{"high equal low", stockalert.Thresholds{High: f(10), Low: f(10)}, "high_value"},
		{"high below low", stockalert.Thresholds{High: f(9), Low: f(10)}, "high_value"},
		{"negative high", stockalert.Thresholds{High: f(-1)}, "high_value"},
		{"zero low", stockalert.Thresholds{Low: f(0)}, "low_value"},
		{"NaN low", stockalert.Thresholds{Low: f(math.NaN())}, "low_value"},
		{"+Inf high", stockalert.Thresholds{High: f(math.Inf(1))}, "high_value"},
		{"-Inf low", stockalert.Thresholds{Low: f(math.Inf(-1))}, "low_value"},
		{"too large", stockalert.Thresholds{High: f(2e12)}, "high_value"},
		{"at the bound", stockalert.Thresholds{High: f(stockalert.MaxThreshold)}, ""},
	} {
		if got := field(c.th.Validate()); got != c.field {
			t.Errorf("%s: Validate names %q, want %q", c.name, got, c.field)
		}
	}
}

func TestThresholdsCheck(t *testing.T) {
	f := stockalert.Float
	both := stockalert.Thresholds{High: f(100), Low: f(50)}
	for _, c := range []struct {
		th        stockalert.Thresholds
		price     float64
		cond      stockalert.Condition
		threshold float64
		breached  bool
	}{
		{both, 75, "", 0, false},
		{both, 100, "", 0, false},
		{both, 50, "", 0, false},
		{both, 100.01, stockalert.Above, 100, true},
		{both, 49.99, stockalert.Below, 50, true},
		{stockalert.Thresholds{High: f(100)}, 1, "", 0, false},
		{stockalert.Thresholds{Low: f(50)}, 1e9, "", 0, false},
		{stockalert.Thresholds{}, 1, "", 0, false},
	} {
		cond, thr, ok := c.th.Check(c.price)
		if cond != c.cond || thr != c.threshold || ok != c.breached {
			t.Errorf("Check(%g) = %q %g %t; want %q %g %t", c.price, cond, thr, ok, c.cond, c.threshold, c.breached)
		}
	}
}

func TestThresholdsEqualComparesValues(t *testing.T) {
	a := stockalert.Thresholds{High: stockalert.Float(1), Low: nil}
	b := stockalert.Thresholds{High: stockalert.Float(1), Low: nil}
	if !a.Equal(b) {
		t.Error("equal values in different pointers must be Equal")
	}
	if a.Equal(stockalert.Thresholds{High: stockalert.Float(1), Low: stockalert.Float(0.5)}) {
		t.Error("a set and an unset bound are not Equal")
	}
}

func TestShouldAlert(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	hour := time.Hour
	for _, c := range []struct {
		name  string
		sub   stockalert.Subscription
		cond  stockalert.Condition
		now   time.Time
		alert bool
	}{
		{"armed: first breach alerts", stockalert.Subscription{State: stockalert.Armed}, stockalert.Above, t0, true},
		{"same side within the interval", stockalert.Subscription{State: stockalert.BreachedAbove, LastAlertedAt: t0}, stockalert.Above, t0.Add(59 * time.Minute), false},
		{"same side at the interval", stockalert.Subscription{State: stockalert.BreachedAbove, LastAlertedAt: t0}, stockalert.Above, t0.Add(hour), true},
		{"the other side at once", stockalert.Subscription{State: stockalert.BreachedAbove, LastAlertedAt: t0}, stockalert.Below, t0.Add(time.Minute), true},
		{"below, still below", stockalert.Subscription{State: stockalert.BreachedBelow, LastAlertedAt: t0}, stockalert.Below, t0.Add(time.Second), false},
	} {
		if got := c.sub.ShouldAlert(c.cond, c.now, hour); got != c.alert {
			t.Errorf("%s: ShouldAlert = %t, want %t", c.name, got, c.alert)
		}
	}
	zero := stockalert.Subscription{State: stockalert.BreachedAbove, LastAlertedAt: t0}
	if !zero.ShouldAlert(stockalert.Above, t0, 0) {
		t.Error("an interval of 0 alerts on every breach event")
	}
}

func TestParseNotifyInterval(t *testing.T) {
	for _, c := range []struct {
		s    int64
		want time.Duration
		ok   bool
	}{
		{0, 0, true}, {60, time.Minute, true}, {2592000, 30 * 24 * time.Hour, true},
		{-1, 0, false}, {2592001, 0, false},
	} {
		got, err := stockalert.ParseNotifyInterval(c.s)
		if got != c.want || c.ok != (err == nil) {
			t.Errorf("ParseNotifyInterval(%d) = %s, %v", c.s, got, err)
		}
		if err != nil && field(err) != "interval" {
			t.Errorf("ParseNotifyInterval(%d) names %q", c.s, field(err))
		}
	}
}

func TestQuoteValidate(t *testing.T) {
	t0 := time.Now()
	for _, c := range []struct {
		q     stockalert.Quote
		field string
	}{
		{stockalert.Quote{Ticker: "AAPL", Price: 1, Currency: "USD", Time: t0}, ""},
		{stockalert.Quote{Ticker: "AAPL", Price: 1, Currency: "", Time: t0}, ""},
		{stockalert.Quote{Ticker: "AAPL", Price: 1, Currency: "GBp", Time: t0}, ""},
		{stockalert.Quote{Ticker: "", Price: 1, Time: t0}, "ticker"},
		{stockalert.Quote{Ticker: "AAPL", Price: 0, Time: t0}, "price"},
		{stockalert.Quote{Ticker: "AAPL", Price: math.NaN(), Time: t0}, "price"},
		{stockalert.Quote{Ticker: "AAPL", Price: 1, Currency: "US$", Time: t0}, "currency"},
		{stockalert.Quote{Ticker: "AAPL", Price: 1, Currency: "USDOLLARS", Time: t0}, "currency"},
		{stockalert.Quote{Ticker: "AAPL", Price: 1}, "time"},
	} {
		if got := field(c.q.Validate()); got != c.field {
			t.Errorf("%+v: Validate names %q, want %q", c.q, got, c.field)
		}
	}
}

func TestParseIdempotencyKey(t *testing.T) {
	for _, c := range []struct {
		key string
		ok  bool
	}{
		{"a", true}, {"3f2c-uuid-like-7a", true}, {strings.Repeat("k", 128), true},
		{"", false}, {strings.Repeat("k", 129), false}, {"has space", false}, {"tab\t", false}, {"é", false},
	} {
		_, err := stockalert.ParseIdempotencyKey(c.key)
		if c.ok != (err == nil) {
			t.Errorf("ParseIdempotencyKey(%q): %v", c.key, err)
		}
		if err != nil && field(err) != "Idempotency-Key" {
			t.Errorf("ParseIdempotencyKey(%q) names %q", c.key, field(err))
		}
	}
}

func TestFingerprintSeparatesParts(t *testing.T) {
	if stockalert.Fingerprint([]byte("ab"), []byte("c")) == stockalert.Fingerprint([]byte("a"), []byte("bc")) {
		t.Error("moving bytes between parts must change the fingerprint")
	}
	if a, b := stockalert.Fingerprint([]byte("x")), stockalert.Fingerprint([]byte("x")); a != b {
		t.Error("the fingerprint is deterministic")
	}
}

func TestSecrets(t *testing.T) {
	s := stockalert.NewSecret()
	if len(s) != 32 || strings.ContainsAny(s, "+/=") {
		t.Errorf("NewSecret() = %q: want 32 URL-safe characters", s)
	}
	if s == stockalert.NewSecret() {
		t.Error("two secrets are equal")
	}
	h := stockalert.HashSecret(s)
	if h == s || len(h) != 64 {
		t.Errorf("HashSecret = %q", h)
	}
	if !stockalert.SecretMatches(h, s) || stockalert.SecretMatches(h, s+"x") || stockalert.SecretMatches(h, "") {
		t.Error("SecretMatches accepts only the secret")
	}
}

func TestAlertEventIDIsDeterministicPerEventAndSubscription(t *testing.T) {
	a := stockalert.AlertEventID("ev-1", 7)
	if a != stockalert.AlertEventID("ev-1", 7) {
		t.Error("same inputs, different ids")
	}
	if a == stockalert.AlertEventID("ev-1", 8) || a == stockalert.AlertEventID("ev-2", 7) || a == stockalert.AlertEventID("ev-17", 0) {
		t.Error("different inputs, same id")
	}
	if len(a) != 32 {
		t.Errorf("id %q: want 32 hex characters", a)
	}
}

func TestErrorClasses(t *testing.T) {
	conflict := fmt.Errorf("register: %w", &stockalert.ConflictError{Field: "email", Reason: "taken"})
	if !errors.Is(conflict, stockalert.ErrConflict) {
		t.Error("a ConflictError is an ErrConflict")
	}
	for _, err := range []error{
		stockalert.Invalid("x", "bad"), fmt.Errorf("w: %w", stockalert.ErrNotFound), conflict,
		stockalert.ErrUnauthorized, stockalert.ErrIdempotencyKeyReused,
	} {
		if !stockalert.IsClientError(err) {
			t.Errorf("%v is a client error", err)
		}
	}
	if stockalert.IsClientError(errors.New("disk full")) || stockalert.IsClientError(stockalert.ErrUndeliverable) {
		t.Error("faults are not client errors")
	}
}

func TestFormatPrice(t *testing.T) {
	for in, want := range map[float64]string{
		200: "200.00", 201.5: "201.50", 1.08745: "1.08745", 0.000012345: "0.000012", 5638.94: "5638.94",
		1e12: "1000000000000.00", 0.1 + 0.2: "0.30",
	} {
		if got := stockalert.FormatPrice(in); got != want {
			t.Errorf("FormatPrice(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatAmountKeepsTheCodeAsQuoted(t *testing.T) {
	for _, c := range []struct {
		v        float64
		currency string
		want     string
	}{
		{72.5, "GBp", "72.50 GBp (pence)"},
		{72.5, "GBP", "72.50 GBP"},
		{1520, "ZAc", "1520.00 ZAc (South African cents)"},
		{1520, "ZAR", "1520.00 ZAR"},
		{3120, "ILA", "3120.00 ILA (agorot)"},
		{190.1, "USD", "190.10 USD"},
		{3, "", "3.00"},
		{3, "gbp", "3.00 gbp"},
	} {
		if got := stockalert.FormatAmount(c.v, c.currency); got != c.want {
			t.Errorf("FormatAmount(%v, %q) = %q, want %q", c.v, c.currency, got, c.want)
		}
	}
}

func TestIsStale(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name   string
		quoted time.Time
		maxAge time.Duration
		want   bool
	}{
		{"a minute old", now.Add(-time.Minute), 0, false},
		{"friday's close on monday morning", now.Add(-(2*24*time.Hour + 17*time.Hour)), 0, false},
		{"easter on the LSE", now.Add(-(4*24*time.Hour + 16*time.Hour)), 0, false},
		{"exactly the default", now.Add(-stockalert.DefaultMaxQuoteAge), 0, false},
		{"just past the default", now.Add(-stockalert.DefaultMaxQuoteAge - time.Second), 0, true},
		{"months old", now.AddDate(0, -5, 0), 0, true},
		{"a shorter setting", now.Add(-2 * time.Hour), time.Hour, true},
		{"a longer setting", now.AddDate(0, 0, -10), 14 * 24 * time.Hour, false},
	} {
		if got := stockalert.IsStale(c.quoted, now, c.maxAge); got != c.want {
			t.Errorf("%s: IsStale = %t, want %t", c.name, got, c.want)
		}
	}
}
