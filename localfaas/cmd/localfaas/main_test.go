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

	// Every listener is on loopback: the gateway, the embedded broker, the function processes.
	if !strings.Contains(table, "127.0.0.1:"+strconv.Itoa(port)+"  (this machine only") {
		t.Errorf("the status table does not say the gateway listens on loopback only:\n%s", table)
	}
	if _, bind := get("/function/echo/env?name=bind", false); bind != "127.0.0.1" {
		t.Errorf("bind in the function = %q, want 127.0.0.1", bind)
	}
	_, brokerPort, _ := net.SplitHostPort(brokers)
	expectOnlyLoopback(t, "the gateway", strconv.Itoa(port))
	expectOnlyLoopback(t, "the embedded broker", brokerPort)
	if _, v := get("/function/echo/env?name=SQLITE_PATH", false); v != filepath.Join(dataDir, "stockalert.db") {
		t.Errorf("SQLITE_PATH = %q", v)
	}
	if _, v := get("/function/echo/env?name=secret_mount_path", false); v != filepath.Join(dataDir, "secrets") {
		t.Errorf("secret_mount_path = %q", v)
	}
	// The topics exist on the embedded broker, with the partitions the functions would give them
	// (stack.DefaultTopicPartitions: the test stack sets no KAFKA_TOPIC_PARTITIONS), not the broker's 3.
	topics := listTopics(t, brokers)
	if topics["local-test"] != 6 || topics["local-test.dlq"] != 6 {
		t.Fatalf("topics and their partitions %v, want local-test and local-test.dlq with 6", topics)
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
// listTopics returns the broker's topics with their partition counts.
func listTopics(t *testing.T, addr string) map[string]int {
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
	topics := map[string]int{}
	for _, p := range parts {
		topics[p.Topic]++
	}
	return topics
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := listenGateway("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// waitFor waits for cond, failing the test when the program exits first or within passes.
func waitFor(t testing.TB, within time.Duration, what string, exited <-chan error, cond func() bool) {
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

// otherAddress is an address of this machine that is not loopback (the first IPv4 one, else IPv6), or
// "" when it has none.
func otherAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var v6 string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		if ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
		if v6 == "" {
			v6 = ipn.IP.String()
		}
	}
	return v6
}

// expectOnlyLoopback checks that port answers on 127.0.0.1 and not on this machine's other address
// (when it has one: the connection stays on this machine either way).
func expectOnlyLoopback(t *testing.T, what, port string) {
	t.Helper()
	dial := func(host string) error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 2*time.Second)
		if err == nil {
			err = c.Close()
			if err == nil {
				return nil
			}
		}
		return err
	}
	if err := dial("127.0.0.1"); err != nil {
		t.Errorf("%s on 127.0.0.1:%s: %v", what, port, err)
	}
	other := otherAddress(t)
	if other == "" {
		t.Logf("this machine has no address but loopback: %s checked on loopback only", what)
		return
	}
	if err := dial(other); err == nil {
		t.Errorf("%s answers on %s:%s, want loopback only", what, other, port)
	}
}

// TestListenGateway: GATEWAY_BIND's default is loopback only; 0.0.0.0 listens on every interface, and
// localfaas itself still reaches the gateway on loopback.
func TestListenGateway(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		bind      string
		wider     bool
		wantLocal string
	}{
		{"127.0.0.1", false, "http://127.0.0.1:"},
		{"0.0.0.0", true, "http://127.0.0.1:"},
	} {
		l, err := listenGateway(tc.bind, 0)
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				_ = c.Close()
			}
		}()
		if got := gatewayURL(l.Addr()); got != tc.wantLocal+port {
			t.Errorf("GATEWAY_BIND=%s: gateway URL %q, want %q", tc.bind, got, tc.wantLocal+port)
		}
		if other := otherAddress(t); other != "" {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(other, port), 2*time.Second)
			if err == nil {
				_ = c.Close()
			}
			if reached := err == nil; reached != tc.wider {
				t.Errorf("GATEWAY_BIND=%s: reachable on %s: %t, want %t", tc.bind, other, reached, tc.wider)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := gatewayURL(&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 8080}); got != "http://192.0.2.7:8080" {
		t.Errorf("a specific address: %q", got)
	}
	if _, err := listenGateway("192.0.2.7", 0); err == nil || !strings.Contains(err.Error(), "GATEWAY_BIND") {
		t.Errorf("an address not of this machine: %v, want an error naming GATEWAY_BIND", err)
	}
}

// TestProgramBehindAnOpenFaaSGateway runs localfaas as it runs behind a real OpenFaaS gateway with the
// cron-connector: LOCALFAAS_ROLE=provider (/system/info is ProviderInfo), EXTERNAL_CRON=true (its own
// cron is off) and GATEWAY_BIND=0.0.0.0 (the gateway, elsewhere, must reach it) — while the embedded
// broker stays on loopback.
func TestProgramBehindAnOpenFaaSGateway(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	p := startProgram(t, filepath.Join("..", "..", "testdata", "stack.yml"),
		"TICK_SCHEDULE=@every 1s", "KAFKA_BROKERS=", "MYSQL_DSN=",
		"LOCALFAAS_ROLE=provider", "EXTERNAL_CRON=true", "GATEWAY_BIND=0.0.0.0")
	p.waitReady(90 * time.Second)
	table := p.stdout.String()
	for _, want := range []string{"0.0.0.0:" + strconv.Itoa(p.port) + "  (reachable from other machines", "role", "provider behind an OpenFaaS gateway",
		"cron", "off: schedules left to an external cron-connector (EXTERNAL_CRON)"} {
		if !strings.Contains(table, want) {
			t.Errorf("status table lacks %q:\n%s", want, table)
		}
	}
	p.waitFor(10*time.Second, "the cron trigger to say it is off", func() bool {
		return strings.Contains(p.stderr.String(), `msg="cron disabled: schedules are left to an external cron-connector" functions=ticker`)
	})

	creds := &auth.BasicAuthCredentials{User: "admin", Password: p.password()}
	r := lftest.Call(t, http.MethodGet, p.gateway+"/system/info", creds, nil)
	info := lftest.Decode[types.ProviderInfo](t, r)
	if r.Status != http.StatusOK || info.Name != "localfaas" || info.Orchestration != "processes" || info.Version == nil {
		t.Fatalf("/system/info as a provider: %d %s", r.Status, r.Body)
	}

	// Reachable from other machines; the broker is not.
	if other := otherAddress(t); other != "" {
		r := lftest.Call(t, http.MethodGet, "http://"+net.JoinHostPort(other, strconv.Itoa(p.port))+"/healthz", nil, nil)
		lftest.ExpectStatus(t, r, http.StatusOK, "the gateway on "+other)
	}
	_, brokerPort, _ := net.SplitHostPort(lftest.Call(t, http.MethodGet, p.gateway+"/function/echo/env?name=KAFKA_BROKERS", nil, nil).Body)
	expectOnlyLoopback(t, "the embedded broker", brokerPort)

	// The external cron-connector's invocation is the only one the function sees.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.gateway+"/function/ticker.openfaas-fn", http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Topic", "cron-function")
	req.Header.Set("X-Connector", "cron-connector")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Body.Close(); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("invoke ticker: %d %v", res.StatusCode, err)
	}
	if runs := strings.Fields(lftest.Call(t, http.MethodGet, p.gateway+"/function/ticker/cron", nil, nil).Body); len(runs) != 2 {
		t.Fatalf("ticker saw %d cron runs (%v), want only the external one", len(runs)/2, runs)
	}
	if n := p.cronRuns("ticker"); n != 0 {
		t.Fatalf("localfaas's cron ran ticker %d times", n)
	}
	p.interrupt()
}

// TestDefaultStartPrintsNoWarnings starts the shipped stack.yml the documented default way (`make
// run`: SQLite, the embedded broker, no Telegram token) and fails on any WARN line up to the status
// table and through Ctrl-C: the secrets the functions treat as optional (mysql-dsn, the Telegram ones)
// must not be reported missing.
func TestDefaultStartPrintsNoWarnings(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the whole pipeline")
	}
	p := startProgram(t, filepath.Join("..", "..", "..", "stack.yml"),
		"KAFKA_BROKERS=", "MYSQL_DSN=", "TELEGRAM_BOT_TOKEN=", "TELEGRAM_API_URL=", "TELEGRAM_WEBHOOK_SECRET=",
		"FUNCTION_LOGS=", "QUOTE_SOURCE=", "COLLECTOR_SCHEDULE=")
	p.waitReady(3 * time.Minute)
	if table := p.stdout.String(); !strings.Contains(table, "user-commands") || !strings.Contains(table, "SQLite ") {
		t.Fatalf("not the default start:\n%s", table)
	}
	// Every function is ready once the table is printed; a secret reported missing is logged when the
	// function is deployed, before that.
	p.interrupt()
	for _, out := range []string{p.stdout.String(), p.stderr.String()} {
		for line := range strings.Lines(out) {
			if strings.Contains(line, "level=WARN") || strings.Contains(line, `"level":"WARN"`) {
				t.Errorf("a default start warns: %s", line)
			}
		}
	}
}
