// Package autoscale scales localfaas's functions the way OpenFaaS does: between the minimum and
// maximum replicas of their labels on their rate of successful invocations (the Autoscaler, OpenFaaS
// CE's alert rule run in-process instead of by Prometheus and AlertManager), to zero after an idle
// period (the idler, off unless configured, for functions labelled com.openfaas.scale.zero=true), and
// from zero on the first call (the Waker, as the OpenFaaS gateway's scale-from-zero does). It acts
// only through a small interface over the functions' statuses and Scale, which the supervisor
// implements, and is told of invocations by the gateway (provider.InvocationObserver).
package autoscale

import (
	"strconv"
	"strings"
	"time"
)

// The labels OpenFaaS reads for scaling (https://docs.openfaas.com/architecture/autoscaling/).
const (
	// LabelMin is the minimum replicas, the count a function is deployed with and scaled back to.
	LabelMin = "com.openfaas.scale.min"
	// LabelMax is the most replicas the autoscaler sets.
	LabelMax = "com.openfaas.scale.max"
	// LabelFactor is the autoscaler's step, in percent of the maximum; 0 turns autoscaling off.
	LabelFactor = "com.openfaas.scale.factor"
	// LabelZero set to "true" lets the idler scale the function to zero.
	LabelZero = "com.openfaas.scale.zero"
	// LabelZeroDuration is the function's own idle period (a Go duration such as "5m"), over the
	// idler's default.
	LabelZeroDuration = "com.openfaas.scale.zero-duration"
)

// The defaults of OpenFaaS CE's documentation for a label that is absent or not a whole number.
const (
	DefaultMin    = 1
	DefaultMax    = 20
	DefaultFactor = 20
)

// Range is a function's scaling settings read from its labels.
type Range struct {
	// Min and Max bound the replicas (Max is at least Min).
	Min, Max uint64
	// Factor is the step in percent of Max (0 to 100); 0 turns autoscaling off.
	Factor uint64
	// Zero is whether the idler may scale the function to zero; ZeroAfter, when not 0, is its own
	// idle period (LabelZeroDuration).
	Zero      bool
	ZeroAfter time.Duration
}

// RangeOf reads a function's labels (nil is no labels), with the defaults for absent or malformed
// values, and Max capped at limit (the most replicas the provider runs; no cap when 0).
func RangeOf(labels map[string]string, limit uint64) Range {
	r := Range{
		Min:    whole(labels[LabelMin], DefaultMin),
		Max:    whole(labels[LabelMax], DefaultMax),
		Factor: whole(labels[LabelFactor], DefaultFactor),
		Zero:   strings.EqualFold(strings.TrimSpace(labels[LabelZero]), "true"),
	}
	if d, err := time.ParseDuration(strings.TrimSpace(labels[LabelZeroDuration])); err == nil && d > 0 {
		r.ZeroAfter = d
	}
	if limit > 0 && r.Max > limit {
		r.Max = limit
	}
	if limit > 0 && r.Min > limit {
		r.Min = limit
	}
	if r.Max < r.Min {
		r.Max = r.Min
	}
	if r.Factor > 100 {
		r.Factor = DefaultFactor
	}
	return r
}

// Step is how many replicas one scale-up adds: Factor percent of Max rounded up, at least 1; 0 when
// autoscaling is off (Factor 0).
func (r Range) Step() uint64 {
	if r.Factor == 0 {
		return 0
	}
	return max(1, (r.Max*r.Factor+99)/100)
}

func whole(s string, def uint64) uint64 {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return def
	}
	return n
}
