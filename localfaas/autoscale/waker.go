package autoscale

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/provider"
)

// Wakeable is what the Waker acts on (the supervisor): a function's status, Scale, and Ready, which
// returns nil once a replica can take a request (errors as provider.Invoker's Ready).
type Wakeable interface {
	Function(name string) (types.FunctionStatus, error)
	Scale(name string, replicas uint64) error
	Ready(name string) error
}

// Waker scales a function from zero on its first call, as the OpenFaaS gateway does: the call waits
// until a replica is ready instead of being answered 503. Concurrent calls share one wake-up. It is the
// gateway's provider.Waker.
type Waker struct {
	fns     Wakeable
	limit   uint64
	timeout time.Duration
	poll    time.Duration

	mu     sync.Mutex
	waking map[string]*wakeUp
}

type wakeUp struct {
	done chan struct{}
	err  error
}

// NewWaker returns a Waker of fns that scales a function to its minimum replicas (at least 1, at most
// limit when limit is not 0) and waits at most timeout (30s when 0) for one to be ready.
func NewWaker(fns Wakeable, limit uint64, timeout time.Duration) *Waker {
	setDefault(&timeout, 30*time.Second)
	return &Waker{fns: fns, limit: limit, timeout: timeout, poll: 10 * time.Millisecond, waking: map[string]*wakeUp{}}
}

// Wake returns nil once a replica of the function is ready. A function at zero replicas is scaled to
// its minimum and waited for, at most the Waker's timeout and until ctx ends; a function being woken
// by another call is waited for the same way. For any other function it returns at once what Ready
// returns. Errors wrap provider.ErrNotFound (not deployed) or provider.ErrUnavailable (not ready in
// time, or Scale failed: the reason is in the message).
func (w *Waker) Wake(ctx context.Context, name string) error {
	w.mu.Lock()
	wu := w.waking[name]
	if wu == nil {
		st, err := w.fns.Function(name)
		if err != nil {
			w.mu.Unlock()
			return fmt.Errorf("wake function %s: %w", name, err)
		}
		if st.Replicas > 0 {
			w.mu.Unlock()
			return w.fns.Ready(name)
		}
		var labels map[string]string
		if st.Labels != nil {
			labels = *st.Labels
		}
		wu = &wakeUp{done: make(chan struct{})}
		w.waking[name] = wu
		go w.wake(name, max(1, RangeOf(labels, w.limit).Min), wu)
	}
	w.mu.Unlock()
	select {
	case <-wu.done:
		return wu.err
	case <-ctx.Done():
		return fmt.Errorf("%w: function %s is scaling from zero: %w", provider.ErrUnavailable, name, ctx.Err())
	}
}

// wake scales the function up and waits for a ready replica, then lets the waiting calls go.
func (w *Waker) wake(name string, replicas uint64, wu *wakeUp) {
	defer func() {
		w.mu.Lock()
		delete(w.waking, name)
		w.mu.Unlock()
		close(wu.done)
	}()
	if err := w.fns.Scale(name, replicas); err != nil {
		wu.err = fmt.Errorf("%w: scale function %s from zero: %w", provider.ErrUnavailable, name, err)
		return
	}
	deadline := time.NewTimer(w.timeout)
	defer deadline.Stop()
	tick := time.NewTicker(w.poll)
	defer tick.Stop()
	for {
		err := w.fns.Ready(name)
		if err == nil {
			return
		}
		if errors.Is(err, provider.ErrNotFound) {
			wu.err = err
			return
		}
		select {
		case <-deadline.C:
			wu.err = fmt.Errorf("%w: function %s scaled from zero has no ready replica after %s: %w", provider.ErrUnavailable, name, w.timeout, err)
			return
		case <-tick.C:
		}
	}
}
