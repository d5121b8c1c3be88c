package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	stockalert "github.com/stockalert/stockalert/shared"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/storage"
)

// TestSmoke runs the function as main does, on a free loopback port over a fresh store (SQLite, or a
// scratch MySQL database when MYSQL_DSN is set), and queries a user's latest price through it.
func TestSmoke(t *testing.T) {
	base := start(t, "stock-queries", wire, nil)

	// Another process (user-commands, data-collector) writes what this one reads.
	ctx := context.Background()
	store, err := storage.Open(ctx, faas.NewSecrets(os.Getenv("secret_mount_path")), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	token := stockalert.NewSecret()
	if err := command.NewRegisterUserHandler(store, nil, nil).Handle(ctx, command.RegisterUser{
		Email: "smoke@example.com", Ticker: "AAPL", TokenHash: stockalert.HashSecret(token),
		LinkCodeHash: stockalert.HashSecret(stockalert.NewSecret()),
	}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	if err := command.NewRecordPricesHandler(store, stockalert.TopicPrices, nil, nil).Handle(ctx, command.RecordPrices{Quotes: []stockalert.Quote{
		{Ticker: "AAPL", Price: 187.25, Currency: "USD", Time: at},
	}}); err != nil {
		t.Fatal(err)
	}

	res, body := call(t, "GET", base+"/users/smoke@example.com/latest", "", token)
	if want := `{"ticker":"AAPL","price":187.25,"currency":"USD","time":"2026-03-02T15:00:00Z"}` + "\n"; res.StatusCode != http.StatusOK || body != want {
		t.Fatalf("GET latest = %d %s, want 200 %s", res.StatusCode, body, want)
	}
	if res, body := call(t, "GET", base+"/users/smoke@example.com", "", "wrong"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET with a wrong token = %d %s", res.StatusCode, body)
	}
	_, metrics := call(t, "GET", base+"/metrics", "", "")
	for _, want := range []string{
		`faas_http_requests_total{function="stock-queries",method="GET",route="GET /users/{email}/latest",status="200"} 1`,
		`stockalert_usecase_duration_seconds_count{kind="query",name="LatestPrice",outcome="ok"} 1`,
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

func call(t *testing.T, method, url, body, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
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
