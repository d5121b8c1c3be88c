package supervisor_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stockalert/stockalert/localfaas/internal/lftest"
)

func TestCrashedProcessIsRestartedAndItsCrashLogged(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	gw.DeployAndWait(t, "echo")
	pid := lftest.Decode[map[string]any](t, lftest.Call(t, "GET", gw.URL+"/function/echo", nil, nil))["pid"]

	// The function crashes (exit status 3) while serving; the gateway reports the failed call.
	r := lftest.Call(t, "POST", gw.URL+"/function/echo/crash", nil, nil)
	if r.Status < 500 {
		t.Fatalf("invocation that crashed the function: status %d", r.Status)
	}
	var newPID any
	lftest.Eventually(t, 30*time.Second, "the function to be back", func() bool {
		r := lftest.Call(t, "GET", gw.URL+"/function/echo", nil, nil)
		if r.Status != http.StatusOK {
			return false
		}
		newPID = lftest.Decode[map[string]any](t, r)["pid"]
		return true
	})
	if newPID == pid {
		t.Fatalf("still process %v after the crash", pid)
	}
	logs := lftest.Call(t, "GET", gw.URL+"/system/logs?name=echo", lftest.Creds, nil).Body
	for _, want := range []string{"fn: crashing", "echo-1 exited (exit status 3)", "restarting in"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if n := lftest.Counter(t, gw.Registry, "localfaas_function_restarts_total", "function_name", "echo"); n != 1 {
		t.Errorf("restart counter = %v, want 1", n)
	}

	// Killed from outside: restarted as well.
	pidNum := int(newPID.(float64))
	if err := syscall.Kill(pidNum, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	lftest.Eventually(t, 30*time.Second, "the function to be back after SIGKILL", func() bool {
		r := lftest.Call(t, "GET", gw.URL+"/function/echo", nil, nil)
		return r.Status == http.StatusOK && lftest.Decode[map[string]any](t, r)["pid"] != newPID
	})
	if !strings.Contains(lftest.Call(t, "GET", gw.URL+"/system/logs?name=echo", lftest.Creds, nil).Body, "signal: killed") {
		t.Error("logs do not report the kill")
	}
}

func TestUnreadyFunctionAnswers503(t *testing.T) {
	t.Parallel()
	// A READY_DELAY longer than the test keeps the process unready; SIGTERM stops it.
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	p := gw
	fn := gw.Stack.Functions["echo"]
	fn.Environment = map[string]string{"READY_DELAY": "1h"}
	gw.Stack.Functions["echo"] = fn
	if err := p.Deploy(context.Background(), fn.Deployment()); err != nil {
		t.Fatal(err)
	}
	r := lftest.Call(t, "GET", gw.URL+"/function/echo", nil, nil)
	lftest.ExpectStatus(t, r, http.StatusServiceUnavailable, "invoke a function that is not ready")
	if !strings.Contains(r.Body, "no ready replica") {
		t.Fatalf("503 body %q", r.Body)
	}
	st, _ := p.Function("echo")
	if st.Replicas != 1 || st.AvailableReplicas != 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestShutdownStopsEveryProcess(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	p := gw
	p.DeployAndWait(t, "echo")
	if err := p.Scale("echo", 3); err != nil {
		t.Fatal(err)
	}
	p.WaitReady(t)
	var pids []int
	seen := map[int]bool{}
	for len(seen) < 3 {
		pid := int(lftest.Decode[map[string]any](t, lftest.Call(t, "GET", gw.URL+"/function/echo", nil, nil))["pid"].(float64))
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
	logs := lftest.Call(t, "GET", gw.URL+"/system/logs?name=echo", lftest.Creds, nil).Body
	if strings.Count(logs, "fn: stopping") != 3 {
		t.Errorf("want 3 processes to log their SIGTERM:\n%s", logs)
	}
	if err := p.Deploy(context.Background(), gw.Stack.Functions["ticker"].Deployment()); err == nil {
		t.Error("deploy after Shutdown succeeded")
	}
	lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/healthz", nil, nil), http.StatusServiceUnavailable, "healthz after shutdown")
}

func TestBuildFailureIsReported(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	p := gw
	fn := gw.Stack.Functions["echo"]
	fn.Handler = "./broken"
	gw.Stack.Functions["echo"] = fn
	r := lftest.Call(t, "POST", gw.URL+"/system/functions", lftest.Creds, fn.Deployment())
	lftest.ExpectStatus(t, r, http.StatusInternalServerError, "deploy a function that does not compile")
	if !strings.Contains(r.Body, "build function echo") || !strings.Contains(r.Body, "undefined: notDefined") {
		t.Fatalf("body %q does not quote the compiler", r.Body)
	}
	if fns := p.Functions(); len(fns) != 0 {
		t.Fatalf("a failed build deployed %+v", fns)
	}
}
