// Package faastest runs a function's wiring in a test the way its main does (faas.Run), on a free
// loopback port, with its secrets in a temporary folder and a fresh store: SQLite in that folder, or a
// scratch MySQL database when MYSQL_DSN is set.
package faastest

import (
	"context"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/configured"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
)

// StoreEnv returns the environment of a fresh store for function processes to share: SQLITE_PATH in a
// temporary folder and an empty MYSQL_DSN, or a scratch MySQL database when MYSQL_DSN is set.
func StoreEnv(t *testing.T) map[string]string {
	t.Helper()
	vars := map[string]string{"SQLITE_PATH": filepath.Join(t.TempDir(), "stockalert.db"), "MYSQL_DSN": ""}
	if os.Getenv("MYSQL_DSN") != "" {
		vars["MYSQL_DSN"] = storetest.ScratchMySQL(t)
	}
	return vars
}

// Env sets, for the rest of the test, the environment of a function process: a free port on
// 127.0.0.1, secret_mount_path holding the given secrets as files, quiet text logs, a fresh store
// (StoreEnv) unless env names one (SQLITE_PATH or MYSQL_DSN), and then env (which may override any of
// these). It returns the function's base URL. Functions started one after the other (each Run returns
// once its wiring has read the environment) can share a store by passing the same StoreEnv.
func Env(t *testing.T, secrets, env map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, value := range secrets {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	vars := map[string]string{
		"port": strconv.Itoa(port), "bind": "127.0.0.1", "secret_mount_path": dir,
		"log_format": "text", "log_level": "error",
	}
	_, sqlite := env["SQLITE_PATH"]
	_, mysql := env["MYSQL_DSN"]
	if !sqlite && !mysql {
		maps.Copy(vars, StoreEnv(t))
	}
	for k, v := range env {
		vars[k] = v
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

// Run runs wire as function name with faas.Run until the test ends (then it must stop cleanly within
// 30 s) and returns once base answers /_/health with 200. It fails the test if the function stops or
// is not healthy within 30 s.
func Run(t *testing.T, name string, wire faas.Wiring, base string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- faas.Run(ctx, name, wire) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s stopped with %v", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not stop within 30 s", name)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + faas.HealthPath)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("%s stopped before it was healthy: %v", name, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy within 30 s: %v", name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Start is Env then Run: the function, running, and its base URL.
func Start(t *testing.T, name string, wire faas.Wiring, secrets, env map[string]string) string {
	t.Helper()
	base := Env(t, secrets, env)
	Run(t, name, wire, base)
	return base
}

// Store opens the store the function under test uses, as Env configured it (SQLite in the test's
// folder, or its scratch MySQL database), so that a test can write what another process would. It is
// closed when the test ends.
func Store(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := configured.Open(context.Background(), faas.NewSecrets(os.Getenv("secret_mount_path")), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open the function's store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
