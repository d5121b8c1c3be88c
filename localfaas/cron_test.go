package localfaas

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type interval struct{ start, end int64 }

func cronRuns(t *testing.T, gw *testGateway) []interval {
	t.Helper()
	body := call(t, "GET", gw.URL+"/function/ticker/cron", nil, nil).Body
	var out []interval
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		start, _ := strconv.ParseInt(f[0], 10, 64)
		end, _ := strconv.ParseInt(f[1], 10, 64)
		out = append(out, interval{start, end})
	}
	return out
}

func startCron(t *testing.T, gw *testGateway) (*CronTrigger, context.CancelFunc, func() error) {
	t.Helper()
	trigger, err := NewCronTrigger(CronConfig{
		Gateway:    gw.URL,
		Functions:  gw.Provider,
		Refresh:    100 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runErr error
	go func() {
		runErr = trigger.Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	wait := func() error {
		<-done
		return runErr
	}
	return trigger, cancel, wait
}

func TestCronInvokesScheduledFunctionsThroughTheGateway(t *testing.T) {
	gw := newTestGateway(t, newTestProvider(t, testStack, nil, nil))
	deployAndWait(t, gw.Provider, "echo")
	deployAndWait(t, gw.Provider, "ticker")
	trigger, _, _ := startCron(t, gw)

	// The fn records only POST / with the cron-connector's headers.
	eventually(t, 30*time.Second, "two cron runs", func() bool { return len(cronRuns(t, gw)) >= 2 })
	if n := counterValue(t, trigger.runs.WithLabelValues("ticker", cronOK)); n < 2 {
		t.Fatalf("ok runs = %v", n)
	}
	// The HTTP function has no schedule and is not invoked by cron.
	if n := counterValue(t, trigger.runs.WithLabelValues("echo", cronOK)); n != 0 {
		t.Fatalf("echo invoked %v times by cron", n)
	}
	// Invocations went through the gateway: they are counted.
	st, _ := gw.Function("ticker")
	if st.InvocationCount < 2 {
		t.Fatalf("ticker invocationCount %v", st.InvocationCount)
	}

	// Deleting the function unschedules it: no failed run follows.
	if err := gw.Delete(context.Background(), "ticker"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := counterValue(t, trigger.runs.WithLabelValues("ticker", cronFailed)); n != 0 {
		t.Fatalf("%v runs failed after the function was deleted: it was not unscheduled", n)
	}
}

func TestCronRunsOfAFunctionNeverOverlapAndDrainOnStop(t *testing.T) {
	gw := newTestGateway(t, newTestProvider(t, testStack, map[string]string{"CRON_SLEEP": "2500ms"}, nil))
	deployAndWait(t, gw.Provider, "ticker")
	trigger, cancel, wait := startCron(t, gw)

	eventually(t, 30*time.Second, "a skipped tick", func() bool {
		return counterValue(t, trigger.runs.WithLabelValues("ticker", cronSkipped)) >= 1
	})
	eventually(t, 30*time.Second, "two finished runs", func() bool { return len(cronRuns(t, gw)) >= 2 })
	runs := cronRuns(t, gw)
	for i := 1; i < len(runs); i++ {
		if runs[i].start < runs[i-1].end {
			t.Fatalf("run %d started before run %d ended: %+v", i, i-1, runs)
		}
	}

	// Stop while a run is in flight: Run returns only once it has finished.
	eventually(t, 30*time.Second, "a run in flight", func() bool {
		trigger.mu.Lock()
		defer trigger.mu.Unlock()
		return trigger.running["ticker"]
	})
	cancel()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	trigger.mu.Lock()
	inFlight := len(trigger.running)
	trigger.mu.Unlock()
	if inFlight != 0 {
		t.Fatal("Run returned with a run in flight")
	}
	finished := counterValue(t, trigger.runs.WithLabelValues("ticker", cronOK))
	if got := len(cronRuns(t, gw)); float64(got) != finished {
		t.Fatalf("function finished %d runs, trigger counted %v ok: the last run was cut", got, finished)
	}
}
