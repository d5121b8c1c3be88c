package trigger_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stockalert/stockalert/internal/logcapture"
	"github.com/stockalert/stockalert/localfaas/internal/lftest"
	"github.com/stockalert/stockalert/localfaas/trigger"
)

// cronStack is the test stack with a second cron function, tocker, whose runs show that the cron
// trigger is still ticking.
const cronStack = lftest.Stack + `
  tocker:
    lang: go
    handler: ./fn
    image: localhost/tocker:latest
    annotations:
      topic: cron-function
      schedule: "@every 1s"
`

type interval struct{ start, end int64 }

// cronRuns are the cron runs the function has finished, as it recorded them.
func cronRuns(t *testing.T, gw *lftest.Gateway, name string) []interval {
	t.Helper()
	body := lftest.Call(t, "GET", gw.URL+"/function/"+name+"/cron", nil, nil).Body
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

// cron is a running cron trigger with what it logged and counted.
type cron struct {
	log     *logcapture.Buffer
	reg     *prometheus.Registry
	started *atomic.Int64 // invocations that reached the gateway
	cancel  context.CancelFunc
	done    chan error
}

func (c *cron) runs(t *testing.T, name, result string) float64 {
	t.Helper()
	return lftest.Counter(t, c.reg, "localfaas_cron_runs_total", "function_name", name, "result", result)
}

// startCron runs a cron trigger on gw through a proxy that counts the invocations reaching it.
func startCron(t *testing.T, gw *lftest.Gateway) *cron {
	t.Helper()
	return startCronWith(t, gw, false)
}

// startCronWith is startCron with CronConfig.External set to external.
func startCronWith(t *testing.T, gw *lftest.Gateway, external bool) *cron {
	t.Helper()
	target, err := url.Parse(gw.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	c := &cron{log: &logcapture.Buffer{}, reg: prometheus.NewRegistry(), started: &atomic.Int64{}, done: make(chan error, 1)}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.started.Add(1)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	tr, err := trigger.NewCronTrigger(trigger.CronConfig{
		Gateway:    front.URL,
		Functions:  gw,
		Refresh:    50 * time.Millisecond,
		Logger:     lftest.Logger(t, c.log),
		Registerer: c.reg,
		External:   external,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() { c.done <- tr.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-c.done; err != nil {
			t.Errorf("the cron trigger stopped with %v, want nil after its context ended", err)
		}
	})
	return c
}

func TestCronInvokesScheduledFunctionsThroughTheGateway(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, cronStack, nil, nil)
	gw.DeployAndWait(t, "echo")
	gw.DeployAndWait(t, "ticker")
	gw.DeployAndWait(t, "tocker")
	c := startCron(t, gw)

	// The fn records only POST / with the cron-connector's headers.
	lftest.Eventually(t, 30*time.Second, "two cron runs", func() bool { return len(cronRuns(t, gw, "ticker")) >= 2 })
	lftest.Eventually(t, 10*time.Second, "the trigger to count them", func() bool { return c.runs(t, "ticker", "ok") >= 2 })
	// The HTTP function has no schedule and is not invoked by cron.
	if n := c.runs(t, "echo", "ok") + c.runs(t, "echo", "failed"); n != 0 {
		t.Fatalf("echo invoked %v times by cron", n)
	}
	// Invocations went through the gateway: they are counted.
	st, err := gw.Function("ticker")
	if err != nil || st.InvocationCount < 2 {
		t.Fatalf("ticker invocationCount %v (%v)", st.InvocationCount, err)
	}

	// Deleting the function unschedules it: once unscheduled, no run of it follows, while the other
	// cron function goes on being run.
	if err := gw.Delete(context.Background(), "ticker"); err != nil {
		t.Fatal(err)
	}
	lftest.Eventually(t, 10*time.Second, "ticker unscheduled", func() bool {
		return strings.Contains(c.log.String(), `msg="cron unscheduled" function=ticker`)
	})
	ok, failed := c.runs(t, "ticker", "ok"), c.runs(t, "ticker", "failed")
	tocks := c.runs(t, "tocker", "ok")
	lftest.Eventually(t, 30*time.Second, "two more runs of tocker", func() bool { return c.runs(t, "tocker", "ok") >= tocks+2 })
	if c.runs(t, "ticker", "ok") != ok || c.runs(t, "ticker", "failed") != failed {
		t.Fatalf("ticker was run after it was unscheduled:\n%s", c.log.String())
	}
}

func TestCronRunsOfAFunctionNeverOverlapAndDrainOnStop(t *testing.T) {
	t.Parallel()
	// Every second, a run that takes 1.2s: every other tick finds the previous run going.
	gw := lftest.NewGateway(t, lftest.Stack, map[string]string{"CRON_SLEEP": "1200ms"}, nil)
	gw.DeployAndWait(t, "ticker")
	c := startCron(t, gw)

	lftest.Eventually(t, 30*time.Second, "a skipped tick", func() bool { return c.runs(t, "ticker", "skipped") >= 1 })
	if !strings.Contains(c.log.String(), "cron run skipped: the previous run is still going") {
		t.Errorf("the skipped tick was not logged:\n%s", c.log.String())
	}
	lftest.Eventually(t, 30*time.Second, "two finished runs", func() bool { return len(cronRuns(t, gw, "ticker")) >= 2 })
	runs := cronRuns(t, gw, "ticker")
	for i := 1; i < len(runs); i++ {
		if runs[i].start < runs[i-1].end {
			t.Fatalf("run %d started before run %d ended: %+v", i, i-1, runs)
		}
	}

	// Stop while a run is in flight (one more has reached the gateway than has finished): Run returns
	// only once it has finished.
	lftest.Eventually(t, 30*time.Second, "a run in flight", func() bool {
		return float64(c.started.Load()) > c.runs(t, "ticker", "ok")+c.runs(t, "ticker", "failed")
	})
	c.cancel()
	if err := <-c.done; err != nil {
		t.Fatal(err)
	}
	c.done <- nil // for the cleanup
	finished := c.runs(t, "ticker", "ok")
	if started := float64(c.started.Load()); started != finished {
		t.Fatalf("%v runs started, %v finished ok when Run returned: the last run was cut", started, finished)
	}
	if got := len(cronRuns(t, gw, "ticker")); float64(got) != finished {
		t.Fatalf("function finished %d runs, trigger counted %v ok: the last run was cut", got, finished)
	}
}

// TestCronLeftToAnExternalCronConnector: with External set, the trigger says so and invokes nothing,
// while a trigger running beside it on the same functions and schedule does.
func TestCronLeftToAnExternalCronConnector(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	gw.DeployAndWait(t, "echo")
	gw.DeployAndWait(t, "ticker")
	external := startCronWith(t, gw, true)
	lftest.Eventually(t, 10*time.Second, "the trigger to report it is disabled", func() bool {
		return strings.Contains(external.log.String(), `msg="cron disabled: schedules are left to an external cron-connector" functions=ticker`)
	})

	// The later event: an ordinary trigger, started after, has run ticker twice on the same schedule
	// (@every 1s), so the disabled one has had two ticks to run it too.
	own := startCron(t, gw)
	lftest.Eventually(t, 30*time.Second, "two runs by the ordinary trigger", func() bool { return own.runs(t, "ticker", "ok") >= 2 })
	if n := external.started.Load(); n != 0 {
		t.Fatalf("the disabled trigger invoked the gateway %d times:\n%s", n, external.log.String())
	}
	if n := external.runs(t, "ticker", "ok") + external.runs(t, "ticker", "failed") + external.runs(t, "ticker", "skipped"); n != 0 {
		t.Fatalf("the disabled trigger counted %v runs", n)
	}
	// Every run the function recorded is the ordinary trigger's.
	if runs, started := len(cronRuns(t, gw, "ticker")), own.started.Load(); int64(runs) > started {
		t.Fatalf("ticker recorded %d cron runs, the ordinary trigger made %d", runs, started)
	}
}
