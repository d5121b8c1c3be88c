package autoscale_test

import (
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/autoscale"
	"github.com/stockalert/stockalert/localfaas/internal/lftest"
	"github.com/stockalert/stockalert/localfaas/provider"
)

// fleet is an in-memory set of functions for the rule's tests (the supervisor in the program; the
// tests over it are in scaling_test.go).
type fleet struct {
	mu     sync.Mutex
	fns    map[string]*types.FunctionStatus
	scaled []uint64 // every Scale's replicas, in order
}

func newFleet(name string, replicas uint64, labels map[string]string) *fleet {
	return &fleet{fns: map[string]*types.FunctionStatus{name: {Name: name, Replicas: replicas, Labels: &labels}}}
}

func (f *fleet) Functions() []types.FunctionStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []types.FunctionStatus
	for _, st := range f.fns {
		out = append(out, *st)
	}
	return out
}

func (f *fleet) Scale(name string, replicas uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.fns[name]
	if st == nil {
		return provider.ErrNotFound
	}
	st.Replicas = replicas
	f.scaled = append(f.scaled, replicas)
	return nil
}

func (f *fleet) replicas(name string) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fns[name].Replicas
}

func (f *fleet) history() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.scaled)
}

// load finishes n invocations of fn with status, then steps the autoscaler at t.
func load(a *autoscale.Autoscaler, fn string, n, status int, t time.Time) {
	for range n {
		a.Started(fn)
		a.Finished(fn, status)
	}
	a.Step(t)
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func sec(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

func TestRangeOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		labels map[string]string
		limit  uint64
		want   autoscale.Range
		step   uint64
	}{
		{nil, 0, autoscale.Range{Min: 1, Max: 20, Factor: 20}, 4},
		{map[string]string{"com.openfaas.scale.min": "2", "com.openfaas.scale.max": "4", "com.openfaas.scale.factor": "10"}, 0, autoscale.Range{Min: 2, Max: 4, Factor: 10}, 1},
		{map[string]string{"com.openfaas.scale.max": "10", "com.openfaas.scale.factor": "50"}, 0, autoscale.Range{Min: 1, Max: 10, Factor: 50}, 5},
		{map[string]string{"com.openfaas.scale.max": "1"}, 0, autoscale.Range{Min: 1, Max: 1, Factor: 20}, 1},
		{map[string]string{"com.openfaas.scale.factor": "0"}, 0, autoscale.Range{Min: 1, Max: 20}, 0},
		{map[string]string{"com.openfaas.scale.min": "x", "com.openfaas.scale.max": "-3", "com.openfaas.scale.factor": "300"}, 0, autoscale.Range{Min: 1, Max: 20, Factor: 20}, 4},
		{nil, 10, autoscale.Range{Min: 1, Max: 10, Factor: 20}, 2},
		{map[string]string{"com.openfaas.scale.min": "5", "com.openfaas.scale.max": "3"}, 0, autoscale.Range{Min: 5, Max: 5, Factor: 20}, 1},
		{map[string]string{"com.openfaas.scale.min": "0", "com.openfaas.scale.zero": "true", "com.openfaas.scale.zero-duration": "3m"}, 0,
			autoscale.Range{Min: 0, Max: 20, Factor: 20, Zero: true, ZeroAfter: 3 * time.Minute}, 4},
	} {
		got := autoscale.RangeOf(tc.labels, tc.limit)
		if got != tc.want || got.Step() != tc.step {
			t.Errorf("RangeOf(%v, %d) = %+v step %d, want %+v step %d", tc.labels, tc.limit, got, got.Step(), tc.want, tc.step)
		}
	}
}

// Above 5 successful invocations a second for 5 s, a step of factor% of max is added; again every 30 s
// while it lasts, up to max; back to min once the rate drops.
func TestScalesUpOnSustainedRateAndBackToMin(t *testing.T) {
	t.Parallel()
	f := newFleet("fn", 1, map[string]string{"com.openfaas.scale.max": "5", "com.openfaas.scale.factor": "40"}) // step 2
	a := autoscale.New(f, autoscale.Config{Autoscale: true, Logger: lftest.Logger(t)})
	a.Step(sec(0)) // first sight
	for s := 1; s <= 5; s++ {
		load(a, "fn", 6, 200, sec(s))
		if f.replicas("fn") != 1 {
			t.Fatalf("scaled to %d after %d s above the threshold, before 5 s", f.replicas("fn"), s-1)
		}
	}
	load(a, "fn", 6, 200, sec(6))
	if f.replicas("fn") != 3 {
		t.Fatalf("after 5 s above 5/s: %d replicas, want 1+2", f.replicas("fn"))
	}
	for s := 7; s < 36; s++ {
		load(a, "fn", 6, 200, sec(s))
	}
	if f.replicas("fn") != 3 {
		t.Fatalf("scaled again before the 30 s repeat: %v", f.history())
	}
	for s := 36; s <= 66; s++ {
		load(a, "fn", 6, 200, sec(s))
	}
	if f.replicas("fn") != 5 || !slices.Equal(f.history(), []uint64{3, 5}) {
		t.Fatalf("while firing: scaled %v, want [3 5] (capped at max 5)", f.history())
	}
	// The load stops: the 10 s rate falls under 5/s, the function goes back to its minimum.
	s := 67
	for ; f.replicas("fn") != 1 && s < 80; s++ {
		a.Step(sec(s))
	}
	if f.replicas("fn") != 1 || s > 67+10 {
		t.Fatalf("after the load stopped: %d replicas after %d s, want 1 within 10 s", f.replicas("fn"), s-67)
	}
}

func TestRateBelowThresholdOrNot2xxDoesNotScale(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		n      int
		status int
	}{{"5 per second (not above)", 5, 200}, {"errors", 50, 500}, {"client errors", 50, 404}} {
		f := newFleet("fn", 1, nil)
		a := autoscale.New(f, autoscale.Config{Autoscale: true, Logger: lftest.Logger(t)})
		a.Step(sec(0))
		for s := 1; s <= 60; s++ {
			load(a, "fn", tc.n, tc.status, sec(s))
		}
		if h := f.history(); len(h) != 0 {
			t.Errorf("%s: scaled %v", tc.name, h)
		}
	}
	// Other 2xx count as successes (201).
	f := newFleet("fn", 1, nil)
	a := autoscale.New(f, autoscale.Config{Autoscale: true, Logger: lftest.Logger(t)})
	a.Step(sec(0))
	for s := 1; s <= 6; s++ {
		load(a, "fn", 10, 201, sec(s))
	}
	if f.replicas("fn") != 5 { // 1 + 20% of 20
		t.Fatalf("201s at 10/s: %d replicas, want 5", f.replicas("fn"))
	}
}

func TestAutoscalingOff(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		cfg    autoscale.Config
		labels map[string]string
	}{
		"Config.Autoscale false": {autoscale.Config{}, nil},
		"factor 0":               {autoscale.Config{Autoscale: true}, map[string]string{"com.openfaas.scale.factor": "0"}},
		"max 1":                  {autoscale.Config{Autoscale: true}, map[string]string{"com.openfaas.scale.max": "1"}},
	} {
		f := newFleet("fn", 1, tc.labels)
		tc.cfg.Logger = lftest.Logger(t)
		a := autoscale.New(f, tc.cfg)
		a.Step(sec(0))
		for s := 1; s <= 40; s++ {
			load(a, "fn", 50, 200, sec(s))
		}
		if h := f.history(); len(h) != 0 {
			t.Errorf("%s: scaled %v", name, h)
		}
	}
}

func TestIdlerScalesLabelledFunctionsToZero(t *testing.T) {
	t.Parallel()
	zero := map[string]string{"com.openfaas.scale.zero": "true"}
	f := &fleet{fns: map[string]*types.FunctionStatus{}}
	for name, labels := range map[string]map[string]string{
		"idle":      zero,
		"unlabeled": nil,
		"own":       {"com.openfaas.scale.zero": "true", "com.openfaas.scale.zero-duration": "10m"},
		"busy":      zero,
		"inflight":  zero,
	} {
		f.fns[name] = &types.FunctionStatus{Name: name, Replicas: 2, Labels: new(maps.Clone(labels))}
	}
	a := autoscale.New(f, autoscale.Config{IdleAfter: 5 * time.Minute, Logger: lftest.Logger(t)})
	a.Step(sec(0))
	a.Started("inflight") // never finishes
	for s := 60; s <= 5*60; s += 60 {
		load(a, "busy", 1, 200, sec(s-1))
		a.Step(sec(s))
	}
	want := map[string]uint64{"idle": 0, "unlabeled": 2, "own": 2, "busy": 2, "inflight": 2}
	for name, n := range want {
		if f.replicas(name) != n {
			t.Errorf("after 5 min: %s has %d replicas, want %d", name, f.replicas(name), n)
		}
	}
	a.Step(sec(10 * 60))
	if f.replicas("own") != 0 {
		t.Errorf("after its own 10 min: own has %d replicas, want 0", f.replicas("own"))
	}
	// Off by default.
	g := newFleet("idle", 1, zero)
	b := autoscale.New(g, autoscale.Config{Autoscale: true, Logger: lftest.Logger(t)})
	b.Step(sec(0))
	b.Step(sec(24 * 3600))
	if g.replicas("idle") != 1 {
		t.Errorf("idler without IdleAfter scaled to %d", g.replicas("idle"))
	}
}
