package supervisor

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/provider"
	"github.com/stockalert/stockalert/localfaas/stack"
)

// spec is what a deployed function runs: the binary built from its handler and the settings of the
// deploy request merged over stack.yml's. A new deploy or update makes a new spec; a spec never changes.
type spec struct {
	name        string
	image       string
	envProcess  string
	env         map[string]string
	secrets     []string
	labels      map[string]string
	annotations map[string]string
	limits      *types.FunctionResources
	requests    *types.FunctionResources
	binary      string
	dir         string // the handler folder, the processes' working directory
	// process, when set, makes this a process function: the fprocess the classic runner forks per
	// request; binary and dir are then unused.
	process string
}

// LabelFunction is the label every function status carries, with the function's name.
const LabelFunction = "faas_function"

// function is a deployed function: its spec and its replicas, each an instance (a supervised process).
type function struct {
	name        string
	createdAt   time.Time
	invocations atomic.Uint64
	next        atomic.Uint64 // round robin

	mu        sync.Mutex
	spec      *spec
	replicas  int
	instances []*instance
	// retiring are the instances of the previous spec after an update: they keep serving until the
	// new ones are ready.
	retiring []*instance
}

func (f *function) status() types.FunctionStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.spec
	st := types.FunctionStatus{
		Name:              f.name,
		Image:             s.image,
		Namespace:         stack.Namespace,
		EnvProcess:        s.envProcess,
		EnvVars:           maps.Clone(s.env),
		Secrets:           slices.Clone(s.secrets),
		Limits:            s.limits,
		Requests:          s.requests,
		InvocationCount:   float64(f.invocations.Load()),
		Replicas:          uint64(f.replicas),              //nolint:gosec // G115: a count, never negative
		AvailableReplicas: uint64(countReady(f.instances)), //nolint:gosec // G115: a count, never negative
		CreatedAt:         f.createdAt,
	}
	// faas_function names the function on every status, as OpenFaaS providers label their workloads.
	labels := maps.Clone(s.labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelFunction] = f.name
	st.Labels = &labels
	if s.annotations != nil {
		annotations := maps.Clone(s.annotations)
		st.Annotations = &annotations
	}
	return st
}

func countReady(instances []*instance) int {
	n := 0
	for _, in := range instances {
		if in.isReady() {
			n++
		}
	}
	return n
}

// pick returns a ready instance, taking turns among them. After an update it falls back to the old
// instances while none of the new ones is ready. Its error says why none is ready.
func (f *function) pick() (*instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, set := range [][]*instance{f.instances, f.retiring} {
		var ready []*instance
		for _, in := range set {
			if in.isReady() {
				ready = append(ready, in)
			}
		}
		if len(ready) > 0 {
			return ready[f.next.Add(1)%uint64(len(ready))], nil
		}
	}
	return nil, f.unavailable()
}

// ready returns nil when an instance can take a request, or an error that says why none can.
func (f *function) ready() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if countReady(f.instances) > 0 || countReady(f.retiring) > 0 {
		return nil
	}
	return f.unavailable()
}

// unavailable explains why no instance is ready. The caller holds f.mu.
func (f *function) unavailable() error {
	if f.replicas == 0 {
		return fmt.Errorf("%w: function %s is scaled to zero replicas: scale it up with POST /system/scale-function/%s", provider.ErrUnavailable, f.name, f.name)
	}
	return fmt.Errorf("%w: function %s has no ready replica (%d starting): see GET /system/logs?name=%s", provider.ErrUnavailable, f.name, len(f.instances), f.name)
}

// scaleTo starts or stops instances until the function has n replicas; the stopped ones exit in the
// background. The caller holds the function's lock (Supervisor.lock).
func (s *Supervisor) scaleTo(f *function, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replicas = n
	for len(f.instances) < n {
		f.instances = append(f.instances, s.startInstance(f, f.spec))
	}
	for len(f.instances) > n {
		last := f.instances[len(f.instances)-1]
		f.instances = f.instances[:len(f.instances)-1]
		last.stop()
	}
}

// replace switches the function to a new spec: it starts the replicas of the new spec at once and stops
// the old ones when the new ones are all ready (or after readyWait).
func (s *Supervisor) replace(f *function, sp *spec, readyWait time.Duration) {
	f.mu.Lock()
	old := make([]*instance, 0, len(f.retiring)+len(f.instances))
	old = append(old, f.retiring...)
	old = append(old, f.instances...)
	f.spec = sp
	f.instances = nil
	for len(f.instances) < f.replicas {
		f.instances = append(f.instances, s.startInstance(f, sp))
	}
	fresh := append([]*instance(nil), f.instances...)
	f.retiring = old
	f.mu.Unlock()

	go func() {
		deadline := time.NewTimer(readyWait)
		defer deadline.Stop()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
	wait:
		for countReady(fresh) < len(fresh) {
			select {
			case <-deadline.C:
				break wait
			case <-s.stopping:
				break wait
			case <-tick.C:
			}
		}
		f.mu.Lock()
		retiring := f.retiring
		f.retiring = nil
		f.mu.Unlock()
		for _, in := range retiring {
			in.stop()
		}
	}()
}

// stopAll stops every instance of the function and returns them.
func (f *function) stopAll() []*instance {
	f.mu.Lock()
	defer f.mu.Unlock()
	all := make([]*instance, 0, len(f.retiring)+len(f.instances))
	all = append(all, f.retiring...)
	all = append(all, f.instances...)
	f.instances, f.retiring = nil, nil
	f.replicas = 0
	for _, in := range all {
		in.stop()
	}
	return all
}

// awaitStopped waits for instances to exit, at most until the deadline.
func awaitStopped(instances []*instance, within time.Duration) {
	timer := time.NewTimer(within)
	defer timer.Stop()
	for _, in := range instances {
		select {
		case <-in.done:
		case <-timer.C:
			return
		}
	}
}
