package stockalert

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// RuleKind says what a rule watches.
type RuleKind string

// The rule kinds.
const (
	// KindRange is the original API's range: a high and/or a low bound on one ticker (Thresholds),
	// fired by a price above High or below Low. A user has at most one range per ticker; it is what
	// high_value/low_value on POST /users, PATCH /users/{email} and PUT …/tickers/{ticker} write.
	KindRange RuleKind = "range"
	// KindAbove fires when the price is above Level (strictly: a price equal to Level is not a breach).
	KindAbove RuleKind = "above"
	// KindBelow fires when the price is below Level (strictly).
	KindBelow RuleKind = "below"
	// KindChangePct fires when the day change from the previous close (Quote.DayChangePercent)
	// reaches Percent in Direction. A quote without a previous close never fires it.
	KindChangePct RuleKind = "change_pct"
	// KindMovePct fires when the price has moved Percent from Reference in Direction: at or beyond
	// MoveLevels.
	KindMovePct RuleKind = "move_pct"
)

// Direction is the way a percent rule watches the price go.
type Direction string

// The directions; the empty Direction means DirectionEither.
const (
	DirectionUp     Direction = "up"
	DirectionDown   Direction = "down"
	DirectionEither Direction = "either"
)

// Repeat says what a rule does after it fired.
type Repeat string

// The repeat policies; the empty Repeat means RepeatRearm.
const (
	// RepeatRearm fires on a breach; while the price stays out on the same side, again only once the
	// user's notify interval has passed since the last alert; it re-arms when the condition clears.
	RepeatRearm Repeat = "rearm"
	// RepeatOnce fires once; the rule is then done.
	RepeatOnce Repeat = "once"
)

// RuleState is where a rule stands, as its owner sees it.
type RuleState string

// The rule states.
const (
	// RuleArmed: the condition does not hold (or was never evaluated); the next breach fires.
	RuleArmed RuleState = "armed"
	// RuleTriggered: the rule fired and the condition still held at the last price evaluated.
	RuleTriggered RuleState = "triggered"
	// RuleDone: a RepeatOnce rule that fired, or a rule whose ExpiresAt passed; it never fires again.
	RuleDone RuleState = "done"
)

// Limits of a rule's fields.
const (
	// MaxPercent bounds Percent of the percent kinds: (0, MaxPercent].
	MaxPercent = 1000
	// MaxNoteRunes bounds Note, in characters.
	MaxNoteRunes = 200
	// DefaultMaxRulesPerUser is how many rules one user may have unless configured otherwise
	// (MAX_RULES_PER_USER); the user's ranges count.
	DefaultMaxRulesPerUser = 100
)

// Rule is one of a user's alert rules on one ticker. Which fields count depends on Kind: Thresholds
// for KindRange; Level for KindAbove and KindBelow; Percent and Direction for KindChangePct; Percent,
// Direction and Reference for KindMovePct. Levels and Reference are in the ticker's currency as quoted,
// Percent in percent (3 means 3 %).
type Rule struct {
	ID     int64
	UserID int64
	Ticker Ticker
	Kind   RuleKind

	Thresholds Thresholds
	Level      float64
	Percent    float64
	Direction  Direction
	Reference  float64

	Repeat Repeat
	// ExpiresAt is when the rule stops firing and is done; zero: never.
	ExpiresAt time.Time
	// Note is the owner's free text, shown in the alert (at most MaxNoteRunes characters).
	Note string

	// State is Armed, or the side of the current breach (BreachedAbove, BreachedBelow).
	State AlertState
	// BreachedSince is when the current breach began (zero while armed); LastAlertedAt when the last
	// alert was raised; DoneAt when a RepeatOnce rule fired (zero otherwise).
	BreachedSince time.Time
	LastAlertedAt time.Time
	DoneAt        time.Time
	CreatedAt     time.Time
	// SnoozedUntil is when a snoozed rule may fire again (the alert's "Snooze 1h" button): no price
	// quoted before it fires the rule. Zero: not snoozed.
	SnoozedUntil time.Time
	// Channels are the channels the rule's alerts go to (each still only when the user enabled it);
	// nil: every channel the user enabled.
	Channels []Channel
}

// RuleIDString returns a rule id as the API and the alert events show it: an opaque string.
func RuleIDString(id int64) string { return strconv.FormatInt(id, 10) }

// ParseRuleID reads a rule id written by RuleIDString; it returns a *ValidationError naming "id" for
// anything else.
func ParseRuleID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || RuleIDString(id) != s {
		return 0, Invalid("id", "%q is not a rule id", s)
	}
	return id, nil
}

// Validate checks a rule as a user wrote it (before it is stored): a known Kind with exactly its own
// fields (a field of another kind, set, is refused), levels finite and in (0, MaxThreshold], Percent
// in (0, MaxPercent], a known Direction and Repeat, a Note of at most MaxNoteRunes characters, and an
// ExpiresAt after now. A move_pct rule needs its Reference (the command fills in the latest price
// when the user gives none), and one watching only a move down a Percent under 100 (a fall of 100 %
// or more never happens, so the rule could never fire). It returns a *ValidationError naming the
// field as the API spells it.
func (r Rule) Validate(now time.Time) error {
	if _, err := ParseTicker(string(r.Ticker)); err != nil {
		return err
	}
	levelSet := r.Level != 0
	thresholdsSet := r.Thresholds.High != nil || r.Thresholds.Low != nil
	switch r.Kind {
	case KindRange:
		if err := r.Thresholds.Validate(); err != nil {
			return err
		}
		if err := refuse(levelSet, "level", r.Percent != 0, "percent", r.Direction != "", "direction", r.Reference != 0, "reference"); err != nil {
			return err
		}
	case KindAbove, KindBelow:
		if err := validBound("level", &r.Level); err != nil {
			return err
		}
		if err := refuse(thresholdsSet, "high_value", r.Percent != 0, "percent", r.Direction != "", "direction", r.Reference != 0, "reference"); err != nil {
			return err
		}
	case KindChangePct, KindMovePct:
		if math.IsNaN(r.Percent) || r.Percent <= 0 || r.Percent > MaxPercent {
			return Invalid("percent", "must be greater than 0 and at most %d", MaxPercent)
		}
		switch r.Direction {
		case "", DirectionUp, DirectionDown, DirectionEither:
		default:
			return Invalid("direction", "%q is not a direction: use up, down or either", r.Direction)
		}
		if err := refuse(thresholdsSet, "high_value", levelSet, "level"); err != nil {
			return err
		}
		if r.Kind == KindChangePct {
			if err := refuse(r.Reference != 0, "reference"); err != nil {
				return err
			}
		} else if err := validBound("reference", &r.Reference); err != nil {
			return err
		} else if r.Direction == DirectionDown && r.Percent >= 100 {
			return Invalid("percent", "must be less than 100 for a move down: a fall of %g%% takes the price to 0 or below, which never happens", r.Percent)
		}
	case "":
		return Invalid("kind", "is required: range, above, below, change_pct or move_pct")
	default:
		return Invalid("kind", "%q is not a rule kind: use range, above, below, change_pct or move_pct", r.Kind)
	}
	switch r.Repeat {
	case "", RepeatRearm, RepeatOnce:
	default:
		return Invalid("repeat", "%q is not a repeat policy: use rearm or once", r.Repeat)
	}
	if !r.ExpiresAt.IsZero() && !r.ExpiresAt.After(now) {
		return Invalid("expires_at", "must be in the future")
	}
	if !utf8.ValidString(r.Note) {
		return Invalid("note", "must be UTF-8 text")
	}
	if n := utf8.RuneCountInString(r.Note); n > MaxNoteRunes {
		return Invalid("note", "must be at most %d characters (it has %d)", MaxNoteRunes, n)
	}
	if i := strings.IndexFunc(r.Note, hiddenRune); i >= 0 {
		return Invalid("note", "must be one line of visible text (it has %U at byte %d)", []rune(r.Note[i:])[0], i)
	}
	if r.Channels != nil {
		names := make([]string, len(r.Channels))
		for i, c := range r.Channels {
			names[i] = string(c)
		}
		if _, err := ParseChannels("channels", names); err != nil {
			return err
		}
	}
	return nil
}

// hiddenRune reports the characters a note may not hold: control characters (line breaks, tabs, escape
// sequences) and the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), which
// could make an alert's text read differently from what it says.
func hiddenRune(r rune) bool {
	return unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// refuse takes (set, field) pairs and returns a *ValidationError for the first field that is set: it
// does not belong to the rule's kind.
func refuse(pairs ...any) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if set, _ := pairs[i].(bool); set {
			field, _ := pairs[i+1].(string)
			return Invalid(field, "is not a field of this kind of rule")
		}
	}
	return nil
}

// Normalized returns the rule with its defaults filled in: DirectionEither for a percent kind without
// one, RepeatRearm without a Repeat.
func (r Rule) Normalized() Rule {
	if (r.Kind == KindChangePct || r.Kind == KindMovePct) && r.Direction == "" {
		r.Direction = DirectionEither
	}
	if r.Repeat == "" {
		r.Repeat = RepeatRearm
	}
	return r
}

// Bounds returns the price bounds beyond which a range, above or below rule fires (strictly: price >
// high or price < low); nil for a side it does not watch, and for the other kinds.
func (r Rule) Bounds() (high, low *float64) {
	switch r.Kind {
	case KindRange:
		return r.Thresholds.High, r.Thresholds.Low
	case KindAbove:
		return Float(r.Level), nil
	case KindBelow:
		return nil, Float(r.Level)
	}
	return nil, nil
}

// MoveLevels returns the prices at or beyond which a move_pct rule fires: Reference × (1 + Percent/100)
// going up, Reference × (1 − Percent/100) going down (nil for a side its Direction does not watch, or
// for a fall of 100 % or more, which no positive price reaches); nil, nil for the other kinds.
func (r Rule) MoveLevels() (up, down *float64) {
	if r.Kind != KindMovePct {
		return nil, nil
	}
	d := r.Normalized().Direction
	if d != DirectionDown {
		up = Float(r.Reference * (1 + r.Percent/100))
	}
	if d != DirectionUp && r.Percent < 100 {
		down = Float(r.Reference * (1 - r.Percent/100))
	}
	return up, down
}

// Check reports whether q fires the rule's condition (ignoring its state, Repeat and expiry), on which
// side (Above or Below) and the price level it reached: the bound for range, above and below (a
// price equal to it is not a breach); the move level for move_pct (reached at or beyond it);
// PreviousClose × (1 ± Percent/100) for change_pct, which fires when q.DayChangePercent reaches
// Percent in its Direction and never when q has no previous close.
func (r Rule) Check(q Quote) (cond Condition, level float64, ok bool) {
	switch r.Kind {
	case KindRange, KindAbove, KindBelow:
		high, low := r.Bounds()
		return Thresholds{High: high, Low: low}.Check(q.Price)
	case KindMovePct:
		up, down := r.MoveLevels()
		if up != nil && q.Price >= *up {
			return Above, *up, true
		}
		if down != nil && q.Price <= *down {
			return Below, *down, true
		}
	case KindChangePct:
		pct, known := q.DayChangePercent()
		if !known {
			return "", 0, false
		}
		d := r.Normalized().Direction
		if d != DirectionDown && pct >= r.Percent {
			return Above, q.PreviousClose * (1 + r.Percent/100), true
		}
		if d != DirectionUp && -pct >= r.Percent {
			return Below, q.PreviousClose * (1 - r.Percent/100), true
		}
	}
	return "", 0, false
}

// Expired reports whether the rule's ExpiresAt has passed at now.
func (r Rule) Expired(now time.Time) bool { return !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt) }

// StateAt returns the rule's state as its owner sees it at now: done once it fired with RepeatOnce or
// expired, triggered while breached, armed otherwise.
func (r Rule) StateAt(now time.Time) RuleState {
	switch {
	case !r.DoneAt.IsZero() || r.Expired(now):
		return RuleDone
	case r.State != Armed && r.State != "":
		return RuleTriggered
	}
	return RuleArmed
}

// ShouldAlert applies the repeat policy to a breach on side cond seen at now, for a user who wants at
// most one alert per interval: a rule that is done never alerts; the first breach (or a jump to the
// other side) alerts at once; while the price stays out on the same side, it alerts again only once
// interval has passed since the last alert.
func (r Rule) ShouldAlert(cond Condition, now time.Time, interval time.Duration) bool {
	if r.StateAt(now) == RuleDone {
		return false
	}
	if r.State != AlertState(cond) {
		return true
	}
	return !now.Before(r.LastAlertedAt.Add(interval))
}

// SnoozedAt reports whether the rule is snoozed at t: SnoozedUntil is after t.
func (r Rule) SnoozedAt(t time.Time) bool { return r.SnoozedUntil.After(t) }

// OwnedRule is a rule with what the alert policy and the notifier need to know about its owner.
type OwnedRule struct {
	Rule
	Email          Email
	TelegramChatID *int64
	NotifyInterval time.Duration
}
