package stockalert

import "math"

// MaxThreshold bounds a threshold: no listed price comes near it, and it keeps float comparisons exact.
const MaxThreshold = 1e12

// Condition says on which side of its range a price broke out.
type Condition string

// The two breach conditions.
const (
	Above Condition = "above"
	Below Condition = "below"
	// SymbolDropped is not a breach but a notice on the alert path: the subscription's ticker was
	// accepted unverified (the quote source could not be asked) and the collector dropped it after
	// finding it unknown UNVERIFIED_SYMBOL_MAX_MISSES times. Price and Threshold are 0.
	SymbolDropped Condition = "symbol-dropped"
	// QuietSummary is not a breach either: the user's quiet hours are over and the alerts held
	// meanwhile (delivery state Held, raised up to the event's Time) are to be summed up in one message.
	QuietSummary Condition = "quiet-hours-summary"
)

// Thresholds is the range a user is happy with: High alone, Low alone or both (then High > Low). A nil
// bound is not watched.
type Thresholds struct {
	High *float64
	Low  *float64
}

// Validate checks each bound is a finite positive number no larger than MaxThreshold and that High is
// above Low when both are set. It returns a *ValidationError naming "high_value" or "low_value".
func (t Thresholds) Validate() error {
	if err := validBound("high_value", t.High); err != nil {
		return err
	}
	if err := validBound("low_value", t.Low); err != nil {
		return err
	}
	if t.High != nil && t.Low != nil && *t.High <= *t.Low {
		return Invalid("high_value", "must be greater than low_value (%g <= %g)", *t.High, *t.Low)
	}
	return nil
}

func validBound(field string, v *float64) error {
	switch {
	case v == nil:
		return nil
	case math.IsNaN(*v) || math.IsInf(*v, 0):
		return Invalid(field, "must be a finite number")
	case *v <= 0:
		return Invalid(field, "must be greater than 0")
	case *v > MaxThreshold:
		return Invalid(field, "must be at most %g", float64(MaxThreshold))
	}
	return nil
}

// Check reports whether price lies outside the range, on which side, and the bound it crossed. A price
// equal to a bound is inside.
func (t Thresholds) Check(price float64) (Condition, float64, bool) {
	if t.High != nil && price > *t.High {
		return Above, *t.High, true
	}
	if t.Low != nil && price < *t.Low {
		return Below, *t.Low, true
	}
	return "", 0, false
}

// Float returns a pointer to v, for building Thresholds.
func Float(v float64) *float64 { return &v }

// Equal reports whether both ranges watch the same bounds.
func (t Thresholds) Equal(o Thresholds) bool {
	return sameBound(t.High, o.High) && sameBound(t.Low, o.Low)
}

func sameBound(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
