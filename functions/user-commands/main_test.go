package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
)

// TestSmoke runs the function as main does, on a free loopback port over a fresh store (SQLite, or a
// scratch MySQL database when MYSQL_DSN is set), and registers a user through it.
func TestSmoke(t *testing.T) {
	base := start(t, "user-commands", wire, map[string]string{"TELEGRAM_BOT_USERNAME": "demo_bot"})

	res, body := call(t, "POST", base+"/users", `{"email":"smoke@example.com","ticker":"AAPL","high_value":200}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST /users = %d %s", res.StatusCode, body)
	}
	var reg struct {
		Email string `json:"email"`
		Token string `json:"token"`
		Link  string `json:"telegram_link"`
	}
	if err := json.Unmarshal([]byte(body), &reg); err != nil {
		t.Fatal(err)
	}
	if reg.Email != "smoke@example.com" || len(reg.Token) != 32 || !strings.HasPrefix(reg.Link, "https://t.me/demo_bot?start=") {
		t.Fatalf("registration = %s", body)
	}
	if res, body := call(t, "GET", base+"/users", ""); res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /users = %d %s", res.StatusCode, body)
	}
	_, metrics := call(t, "GET", base+"/metrics", "")
	for _, want := range []string{
		`faas_http_requests_total{function="user-commands",method="POST",route="POST /users",status="201"} 1`,
		`stockalert_usecase_duration_seconds_count{kind="command",name="RegisterUser",outcome="ok"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// start runs wire as function name until the test ends and returns its base URL once healthy.
func start(t *testing.T, name string, wire faas.Wiring, env map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	vars := map[string]string{
		"port": strconv.Itoa(port), "bind": "127.0.0.1", "log_format": "text", "log_level": "warn",
		"secret_mount_path": dir, "SQLITE_PATH": filepath.Join(dir, "stockalert.db"), "MYSQL_DSN": "",
	}
	if os.Getenv("MYSQL_DSN") != "" {
		vars["MYSQL_DSN"] = storetest.ScratchMySQL(t)
	}
	for k, v := range env {
		vars[k] = v
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- faas.Run(ctx, name, wire) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s stopped with %v", name, err)
		}
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("%s stopped before it was healthy: %v", name, err)
		default:
		}
		res, err := http.Get(base + faas.HealthPath)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy within 30s: %v", name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func call(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}
