package autoscale

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openfaas/faas-provider/types"
)

// Functions is what the autoscaler and the idler act on (the supervisor): the deployed functions'
// statuses (replicas and labels), and Scale, whose errors they log.
type Functions interface {
	Functions() []types.FunctionStatus
	Scale(name string, replicas uint64) error
}

// Config configures an Autoscaler. Zero values take the defaults shown: OpenFaaS CE's alert rule
// APIHighInvocationRate, `rate(gateway_function_invocation_total{code="200"}[10s]) > 5` for 5s,
// and the AlertManager repeat_interval (30s) of the openfaas Helm chart, with which a rule that keeps
// firing scales up again.
type Config struct {
	// Autoscale turns the rate rule on; without it only the idler runs (when IdleAfter is set).
	Autoscale bool
	// Limit is the most replicas the provider runs (Scale's limit); a label's maximum above it is
	// capped. 0: no cap.
	Limit uint64
	// Window is the span the rate is measured over (10s); Threshold the rate in successful (2xx)
	// invocations per second it must exceed (5); For how long it must stay above before a scale-up
	// (5s); Repeat how often a scale-up is repeated while it stays above (30s).
	Window    time.Duration
	Threshold float64
	For       time.Duration
	Repeat    time.Duration
	// IdleAfter is how long a function labelled com.openfaas.scale.zero=true may go without an
	// invocation before the idler scales it to zero. 0 turns the idler off.
	IdleAfter time.Duration
	// Logger receives the scaling decisions. Default: slog.Default().
	Logger *slog.Logger
}

// Autoscaler counts each function's invocations (it is the gateway's provider.InvocationObserver)
// and, at each Step, scales the functions up while their rate of 2xx answers is above the threshold,
// back to their minimum when it drops, and to zero when idle. Its methods are safe for concurrent
// use, but Step must be called from one goroutine at a time (Run does).
type Autoscaler struct {
	fns Functions
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	counters map[string]*counter

	states map[string]*state // Step's own
}

// counter is what the gateway reports of one function between two steps.
type counter struct {
	ok       atomic.Uint64 // 2xx answers
	calls    atomic.Uint64 // all answers
	inFlight atomic.Int64
}

// state is what the autoscaler remembers of one function across steps.
type state struct {
	since        time.Time // the first step that saw the function
	samples      []sample  // 2xx answers per step, within Window
	pendingSince time.Time // when the rate went above the threshold; zero when it is not
	firing       bool      // the rate has stayed above for For: scaled up
	lastScaleUp  time.Time
	lastActive   time.Time // the last step that saw an invocation (or the first step that saw the function)
}

type sample struct {
	at time.Time
	n  uint64
}

// New returns an autoscaler of fns with cfg.
func New(fns Functions, cfg Config) *Autoscaler {
	setDefault(&cfg.Window, 10*time.Second)
	setDefault(&cfg.Threshold, 5)
	setDefault(&cfg.For, 5*time.Second)
	setDefault(&cfg.Repeat, 30*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Autoscaler{fns: fns, cfg: cfg, log: cfg.Logger, counters: map[string]*counter{}, states: map[string]*state{}}
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func (a *Autoscaler) counter(name string) *counter {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.counters[name]
	if c == nil {
		c = &counter{}
		a.counters[name] = c
	}
	return c
}

// Started records that an invocation of the function began (the idler leaves it alone meanwhile).
func (a *Autoscaler) Started(name string) { a.counter(name).inFlight.Add(1) }

// Finished records that an invocation of the function ended with the HTTP status code status.
func (a *Autoscaler) Finished(name string, status int) {
	c := a.counter(name)
	c.inFlight.Add(-1)
	c.calls.Add(1)
	if status >= 200 && status < 300 {
		c.ok.Add(1)
	}
}

// Run calls Step every interval (1s when 0) until ctx ends.
func (a *Autoscaler) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			a.Step(now)
		}
	}
}

// Step takes the invocations counted since the last step as happening at now and scales every
// deployed function by the rules of Config. Scale errors are logged (a function deleted meanwhile).
func (a *Autoscaler) Step(now time.Time) {
	seen := map[string]bool{}
	for _, st := range a.fns.Functions() {
		seen[st.Name] = true
		a.step(now, st)
	}
	for name := range a.states {
		if !seen[name] {
			delete(a.states, name)
			a.mu.Lock()
			delete(a.counters, name)
			a.mu.Unlock()
		}
	}
}

func (a *Autoscaler) step(now time.Time, st types.FunctionStatus) {
	var labels map[string]string
	if st.Labels != nil {
		labels = *st.Labels
	}
	r := RangeOf(labels, a.cfg.Limit)
	c := a.counter(st.Name)
	ok, calls, inFlight := c.ok.Swap(0), c.calls.Swap(0), c.inFlight.Load()
	s := a.states[st.Name]
	if s == nil {
		// What was counted before is of an unknown span: measure from here.
		a.states[st.Name] = &state{since: now, lastActive: now}
		return
	}
	if calls > 0 || inFlight > 0 {
		s.lastActive = now
	}
	s.samples = append(s.samples, sample{at: now, n: ok})
	for len(s.samples) > 0 && !s.samples[0].at.After(now.Add(-a.cfg.Window)) {
		s.samples = s.samples[1:]
	}
	var total uint64
	for _, smp := range s.samples {
		total += smp.n
	}
	// Over the span measured so far while it is shorter than the window.
	var rate float64
	if span := min(a.cfg.Window, now.Sub(s.since)); span > 0 {
		rate = float64(total) / span.Seconds()
	}

	switch {
	case a.cfg.Autoscale && rate > a.cfg.Threshold && r.Step() > 0:
		if s.pendingSince.IsZero() {
			s.pendingSince = now
		}
		if now.Sub(s.pendingSince) < a.cfg.For || (s.firing && now.Sub(s.lastScaleUp) < a.cfg.Repeat) {
			return
		}
		s.firing, s.lastScaleUp = true, now
		want := min(st.Replicas+r.Step(), r.Max)
		if want > st.Replicas {
			a.scale(st.Name, st.Replicas, want, "invocation rate above threshold", "rate", rate)
		}
		return
	case s.firing:
		s.firing, s.pendingSince = false, time.Time{}
		if st.Replicas != r.Min && st.Replicas > 0 {
			a.scale(st.Name, st.Replicas, r.Min, "invocation rate back under threshold", "rate", rate)
		}
		return
	default:
		s.pendingSince = time.Time{}
	}

	idleAfter := a.cfg.IdleAfter
	if r.ZeroAfter > 0 {
		idleAfter = r.ZeroAfter
	}
	if a.cfg.IdleAfter > 0 && r.Zero && st.Replicas > 0 && inFlight == 0 && now.Sub(s.lastActive) >= idleAfter {
		a.scale(st.Name, st.Replicas, 0, "idle", "idle_for", now.Sub(s.lastActive))
	}
}

func (a *Autoscaler) scale(name string, from, to uint64, why string, attrs ...any) {
	if err := a.fns.Scale(name, to); err != nil {
		a.log.Warn("autoscale: cannot scale function", append([]any{"function", name, "from", from, "to", to, "reason", why, "err", err}, attrs...)...)
		return
	}
	a.log.Info("function autoscaled", append([]any{"function", name, "from", from, "to", to, "reason", why}, attrs...)...)
}
