package autoscale_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/autoscale"
	"github.com/stockalert/stockalert/localfaas/internal/lftest"
	"github.com/stockalert/stockalert/localfaas/provider"
	"github.com/stockalert/stockalert/localfaas/supervisor"
)

// late is the supervisor the gateway's autoscaler and waker act on, set once the gateway is made.
type late struct{ *supervisor.Supervisor }

// scalingGateway is a test gateway over a real supervisor with the autoscaler as its observer and a
// waker that waits at most wakeWithin.
func scalingGateway(t testing.TB, cfg autoscale.Config, wakeWithin time.Duration) (*lftest.Gateway, *autoscale.Autoscaler) {
	t.Helper()
	sup := &late{}
	cfg.Logger = lftest.Logger(t)
	a := autoscale.New(sup, cfg)
	gw := lftest.NewGatewayWith(t, lftest.Stack, nil, nil, provider.Options{
		Creds: lftest.Creds, Observer: a, Waker: autoscale.NewWaker(sup, 10, wakeWithin),
	})
	sup.Supervisor = gw.Supervisor
	return gw, a
}

func deployWithLabels(t *testing.T, gw *lftest.Gateway, name string, labels map[string]string) {
	t.Helper()
	req := gw.Stack.Functions[name].Deployment()
	req.Labels = &labels
	if err := gw.Deploy(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	gw.WaitReady(t)
}

func replicas(t *testing.T, gw *lftest.Gateway, name string) (wanted, ready uint64) {
	t.Helper()
	st, err := gw.Function(name)
	if err != nil {
		t.Fatal(err)
	}
	return st.Replicas, st.AvailableReplicas
}

// The whole loop over real processes: invocations through the gateway scale the function up, it goes
// back to its minimum when they stop, the idler scales it to zero, and the next call wakes it.
func TestGatewayLoadScalesRealFunction(t *testing.T) {
	t.Parallel()
	gw, a := scalingGateway(t, autoscale.Config{Autoscale: true, IdleAfter: time.Minute}, 30*time.Second)
	deployWithLabels(t, gw, "echo", map[string]string{
		"com.openfaas.scale.min": "1", "com.openfaas.scale.max": "4", "com.openfaas.scale.factor": "50",
		"com.openfaas.scale.zero": "true",
	})
	a.Step(sec(0))
	for s := 1; s <= 6; s++ {
		for range 6 {
			lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/function/echo", nil, nil), http.StatusOK, "invoke")
		}
		a.Step(sec(s))
	}
	if n, _ := replicas(t, gw, "echo"); n != 3 {
		t.Fatalf("after 5 s at 6/s: %d replicas, want 1 + 50%% of 4", n)
	}
	gw.WaitReady(t)
	a.Step(sec(17)) // 10 s without a call: the rate is 0
	if n, _ := replicas(t, gw, "echo"); n != 1 {
		t.Fatalf("after the load: %d replicas, want the minimum, 1", n)
	}
	a.Step(sec(6 + 60)) // a minute after the last call
	if n, _ := replicas(t, gw, "echo"); n != 0 {
		t.Fatalf("idle for a minute: %d replicas, want 0", n)
	}
	r := lftest.Call(t, "GET", gw.URL+"/function/echo", nil, nil)
	lftest.ExpectStatus(t, r, http.StatusOK, "first call after scale to zero")
	if n, ready := replicas(t, gw, "echo"); n != 1 || ready != 1 {
		t.Fatalf("woken: %d replicas (%d ready), want 1", n, ready)
	}
}

// Calls to a function at zero replicas wait for one wake-up to the function's minimum and all succeed.
func TestScaleFromZeroOnFirstCalls(t *testing.T) {
	t.Parallel()
	gw, _ := scalingGateway(t, autoscale.Config{}, 30*time.Second)
	deployWithLabels(t, gw, "echo", map[string]string{"com.openfaas.scale.min": "2"})
	lftest.ExpectStatus(t, lftest.Call(t, "POST", gw.URL+"/system/scale-function/echo", lftest.Creds,
		types.ScaleServiceRequest{ServiceName: "echo", Replicas: 0}), http.StatusAccepted, "scale to 0")
	if n, ready := replicas(t, gw, "echo"); n != 0 || ready != 0 {
		t.Fatalf("scaled to zero: %d replicas (%d ready)", n, ready)
	}
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Go(func() {
			res, err := http.Get(gw.URL + "/function/echo") //nolint:noctx // a test call
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = res.StatusCode
			_ = res.Body.Close()
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Fatalf("call %d at zero replicas: %d, want 200 (all: %v)", i, s, statuses)
		}
	}
	if n, _ := replicas(t, gw, "echo"); n != 2 {
		t.Fatalf("woken to %d replicas, want the minimum, 2", n)
	}
	// A function that is not at zero replicas is not waited for: unknown is still 404.
	lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/function/nope", nil, nil), http.StatusNotFound, "unknown function")
}

// never is a function scaled to zero that never gets ready.
type never struct {
	mu     sync.Mutex
	scaled []uint64
}

func (n *never) Function(name string) (types.FunctionStatus, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var r uint64
	if len(n.scaled) > 0 {
		r = n.scaled[len(n.scaled)-1]
	}
	return types.FunctionStatus{Name: name, Replicas: r}, nil
}

func (n *never) Scale(_ string, replicas uint64) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.scaled = append(n.scaled, replicas)
	return nil
}

func (n *never) Ready(name string) error {
	return fmt.Errorf("%w: %s is starting", provider.ErrUnavailable, name)
}

func TestWakeIsBounded(t *testing.T) {
	t.Parallel()
	n := &never{}
	w := autoscale.NewWaker(n, 10, 50*time.Millisecond)
	err := w.Wake(context.Background(), "slow")
	if !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("Wake of a function that never gets ready: %v, want ErrUnavailable", err)
	}
	if len(n.scaled) != 1 || n.scaled[0] != 1 {
		t.Fatalf("scaled %v, want [1]", n.scaled)
	}
	// The caller's context bounds it too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := autoscale.NewWaker(&never{}, 10, 100*time.Millisecond).Wake(ctx, "slow"); !errors.Is(err, provider.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Wake with an ended context: %v", err)
	}
}
