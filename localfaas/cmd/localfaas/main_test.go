package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/auth"
	"github.com/openfaas/faas-provider/types"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/stockalert/stockalert/localfaas/internal/lftest"
)

// TestProgram starts localfaas as a user would, on the test stack, and checks the gateway (through
// bootstrap.Serve), the functions' environment, the embedded broker's topics, the cron trigger, a
// restart after a kill, and the clean shutdown on Ctrl-C.
func TestProgram(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	p := startProgram(t, filepath.Join("..", "..", "testdata", "stack.yml"),
		"TICK_SCHEDULE=@every 1s", "FUNCTION_LOGS=all", "KAFKA_BROKERS=", "MYSQL_DSN=")
	port, dataDir, gateway := p.port, p.data, p.gateway
	stdout, stderr, exited := &p.stdout, &p.stderr, p.exited
	p.waitReady(90 * time.Second)
	password, err := os.ReadFile(filepath.Join(dataDir, "gateway", "basic-auth-password"))
	if err != nil {
		t.Fatal(err)
	}
	table := stdout.String()
	for _, want := range []string{"echo", "1/1", gateway + "/function/echo", "kafka local-test", "cron @every 1s", string(password), dataDir, "SQLite " + filepath.Join(dataDir, "stockalert.db"), "embedded 127.0.0.1:"} {
		if !strings.Contains(table, want) {
			t.Errorf("status table lacks %q:\n%s", want, table)
		}
	}

	get := func(path string, withAuth bool) (int, string) {
		creds := &auth.BasicAuthCredentials{User: "admin", Password: string(password)}
		if !withAuth {
			creds = nil
		}
		r := lftest.Call(t, http.MethodGet, gateway+path, creds, nil)
		return r.Status, r.Body
	}

	// Basic auth on every /system route, /system/namespaces included.
	for _, path := range []string{"/system/functions", "/system/namespaces", "/system/info", "/system/secrets", "/system/function/echo", "/system/logs?name=echo"} {
		if code, _ := get(path, false); code != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials: %d", path, code)
		}
	}
	code, body := get("/system/functions", true)
	var fns []types.FunctionStatus
	if code != 200 || json.Unmarshal([]byte(body), &fns) != nil || len(fns) != 2 {
		t.Fatalf("list: %d %s", code, body)
	}
	if code, body := get("/metrics", false); code != 200 || !strings.Contains(body, "gateway_service_count") {
		t.Errorf("/metrics: %d", code)
	}

	// The infrastructure addresses reach the functions.
	_, brokers := get("/function/echo/env?name=KAFKA_BROKERS", false)
	if !strings.HasPrefix(brokers, "127.0.0.1:") {
		t.Fatalf("KAFKA_BROKERS in the function = %q", brokers)
	}
	if _, v := get("/function/echo/env?name=SQLITE_PATH", false); v != filepath.Join(dataDir, "stockalert.db") {
		t.Errorf("SQLITE_PATH = %q", v)
	}
	if _, v := get("/function/echo/env?name=secret_mount_path", false); v != filepath.Join(dataDir, "secrets") {
		t.Errorf("secret_mount_path = %q", v)
	}
	// The topics exist on the embedded broker.
	if topics := listTopics(t, brokers); !topics["local-test"] || !topics["local-test.dlq"] {
		t.Fatalf("topics %v", topics)
	}

	// Cron runs the ticker through the gateway.
	waitFor(t, 30*time.Second, "a cron run", exited, func() bool {
		return strings.Contains(stderr.String(), `msg="cron run" function=ticker status=200`)
	})

	// A killed function comes back.
	var echo struct{ PID int }
	_, body = get("/function/echo", false)
	if err := json.Unmarshal([]byte(body), &echo); err != nil || echo.PID == 0 {
		t.Fatalf("echo: %s", body)
	}
	if err := syscall.Kill(echo.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "echo to come back", exited, func() bool {
		code, body := get("/function/echo", false)
		return code == 200 && !strings.Contains(body, `"pid":`+strconv.Itoa(echo.PID)+",")
	})
	if !strings.Contains(stderr.String(), "function crashed") || !strings.Contains(stderr.String(), "signal: killed") {
		t.Error("the crash was not logged")
	}
	_, body = get("/function/echo", false)
	if err := json.Unmarshal([]byte(body), &echo); err != nil {
		t.Fatal(err)
	}

	// Ctrl-C: triggers, then the gateway, then the functions (which get SIGTERM), then the broker.
	p.interrupt()
	logs := stderr.String()
	order := []string{"stopping: triggers", "stopping: gateway", "stopping: functions", "fn: stopping"}
	last := -1
	for _, step := range order {
		i := strings.Index(logs[max(last, 0):], step)
		if i < 0 {
			t.Fatalf("after the previous step, no %q in the log", step)
		}
		last += i + 1
	}
	if err := syscall.Kill(echo.PID, 0); err == nil {
		t.Errorf("function process %d survived localfaas", echo.PID)
	}
	if _, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
		t.Error("the gateway still listens")
	}
}

// listTopics lists the topics on the broker at addr.
func listTopics(t *testing.T, addr string) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := kafkago.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := conn.Close(); err != nil {
			t.Error(err)
		}
	}()
	parts, err := conn.ReadPartitions()
	if err != nil {
		t.Fatal(err)
	}
	topics := map[string]bool{}
	for _, p := range parts {
		topics[p.Topic] = true
	}
	return topics
}

func freePort(t *testing.T) int {
	t.Helper()
	port, err := gatewayPort(0)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// waitFor waits for cond, failing the test when the program exits first or within passes.
func waitFor(t *testing.T, within time.Duration, what string, exited <-chan error, cond func() bool) {
	t.Helper()
	lftest.Eventually(t, within, what, func() bool {
		select {
		case err := <-exited:
			t.Fatalf("localfaas exited (%v) while waiting for %s", err, what)
		default:
		}
		return cond()
	})
}
