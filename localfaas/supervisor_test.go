package localfaas

import (
	"context"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestCrashedProcessIsRestartedAndItsCrashLogged(t *testing.T) {
	gw := newTestGateway(t, newTestProvider(t, testStack, nil, nil))
	deployAndWait(t, gw.Provider, "echo")
	pid := decode[map[string]any](t, call(t, "GET", gw.URL+"/function/echo", nil, nil))["pid"]

	// The function crashes (exit status 3) while serving; the gateway reports the failed call.
	r := call(t, "POST", gw.URL+"/function/echo/crash", nil, nil)
	if r.Status < 500 {
		t.Fatalf("invocation that crashed the function: status %d", r.Status)
	}
	var newPID any
	eventually(t, 30*time.Second, "the function to be back", func() bool {
		r := call(t, "GET", gw.URL+"/function/echo", nil, nil)
		if r.Status != http.StatusOK {
			return false
		}
		newPID = decode[map[string]any](t, r)["pid"]
		return true
	})
	if newPID == pid {
		t.Fatalf("still process %v after the crash", pid)
	}
	logs := call(t, "GET", gw.URL+"/system/logs?name=echo", testCreds, nil).Body
	for _, want := range []string{"fn: crashing", "echo-1 exited (exit status 3)", "restarting in"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if n := counterValue(t, gw.metrics.restarts.WithLabelValues("echo")); n != 1 {
		t.Errorf("restart counter = %v, want 1", n)
	}

	// Killed from outside: restarted as well.
	pidNum := int(newPID.(float64))
	if err := syscall.Kill(pidNum, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the function to be back after SIGKILL", func() bool {
		r := call(t, "GET", gw.URL+"/function/echo", nil, nil)
		return r.Status == http.StatusOK && decode[map[string]any](t, r)["pid"] != newPID
	})
	if !strings.Contains(call(t, "GET", gw.URL+"/system/logs?name=echo", testCreds, nil).Body, "signal: killed") {
		t.Error("logs do not report the kill")
	}
}

func TestUnreadyFunctionAnswers503(t *testing.T) {
	// A READY_DELAY longer than the test keeps the process unready; SIGTERM stops it.
	p := newTestProvider(t, testStack, nil, nil)
	gw := newTestGateway(t, p)
	fn := p.cfg.Stack.Functions["echo"]
	fn.Environment = map[string]string{"READY_DELAY": "1h"}
	p.cfg.Stack.Functions["echo"] = fn
	if err := p.Deploy(context.Background(), StackDeployment(fn)); err != nil {
		t.Fatal(err)
	}
	r := call(t, "GET", gw.URL+"/function/echo", nil, nil)
	expectStatus(t, r, http.StatusServiceUnavailable, "invoke a function that is not ready")
	if !strings.Contains(r.Body, "no ready replica") {
		t.Fatalf("503 body %q", r.Body)
	}
	st, _ := p.Function("echo")
	if st.Replicas != 1 || st.AvailableReplicas != 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestShutdownStopsEveryProcess(t *testing.T) {
	p := newTestProvider(t, testStack, nil, nil)
	gw := newTestGateway(t, p)
	deployAndWait(t, p, "echo")
	if err := p.Scale("echo", 3); err != nil {
		t.Fatal(err)
	}
	waitReady(t, p)
	var pids []int
	seen := map[int]bool{}
	for len(seen) < 3 {
		pid := int(decode[map[string]any](t, call(t, "GET", gw.URL+"/function/echo", nil, nil))["pid"].(float64))
		if !seen[pid] {
			seen[pid] = true
			pids = append(pids, pid)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if proc, _ := os.FindProcess(pid); proc.Signal(syscall.Signal(0)) == nil {
			t.Errorf("process %d still runs after Shutdown", pid)
		}
	}
	// They stopped on SIGTERM, cleanly.
	logs := call(t, "GET", gw.URL+"/system/logs?name=echo", testCreds, nil).Body
	if strings.Count(logs, "fn: stopping") != 3 {
		t.Errorf("want 3 processes to log their SIGTERM:\n%s", logs)
	}
	if err := p.Deploy(context.Background(), StackDeployment(p.cfg.Stack.Functions["ticker"])); err == nil {
		t.Error("deploy after Shutdown succeeded")
	}
	expectStatus(t, call(t, "GET", gw.URL+"/healthz", nil, nil), http.StatusServiceUnavailable, "healthz after shutdown")
}

func TestBuildFailureIsReported(t *testing.T) {
	p := newTestProvider(t, testStack, nil, nil)
	gw := newTestGateway(t, p)
	fn := p.cfg.Stack.Functions["echo"]
	fn.Handler = "./broken"
	p.cfg.Stack.Functions["echo"] = fn
	r := call(t, "POST", gw.URL+"/system/functions", testCreds, StackDeployment(fn))
	expectStatus(t, r, http.StatusInternalServerError, "deploy a function that does not compile")
	if !strings.Contains(r.Body, "build function echo") || !strings.Contains(r.Body, "undefined: notDefined") {
		t.Fatalf("body %q does not quote the compiler", r.Body)
	}
	if fns := p.Functions(); len(fns) != 0 {
		t.Fatalf("a failed build deployed %+v", fns)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
