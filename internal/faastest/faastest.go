// Package faastest runs a function's wiring in a test the way its main does (faas.Run), on a free
// loopback port, with its secrets in a temporary folder and a fresh store: SQLite in a temporary
// folder, or a scratch MySQL database when MYSQL_DSN is set. The function's environment is a map given
// to faas.RunEnv, never the test process's, so that tests using it can run in parallel and several
// functions can run side by side, each with its own.
package faastest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/configured"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
)

// StoreEnv returns the environment of a fresh store for function processes to share: SQLITE_PATH in a
// temporary folder and an empty MYSQL_DSN, or a scratch MySQL database when the test process's
// MYSQL_DSN is set.
func StoreEnv(t testing.TB) map[string]string {
	t.Helper()
	vars := map[string]string{"SQLITE_PATH": filepath.Join(t.TempDir(), "stockalert.db"), "MYSQL_DSN": ""}
	if os.Getenv("MYSQL_DSN") != "" {
		vars["MYSQL_DSN"] = storetest.ScratchMySQL(t)
	}
	return vars
}

// Env returns the whole environment of a function process: a free port on 127.0.0.1,
// secret_mount_path holding the given secrets as files, quiet text logs, a fresh store (StoreEnv)
// unless env names one (SQLITE_PATH or MYSQL_DSN), and then env (which may override any of these).
// Functions given the same StoreEnv share a store.
func Env(t testing.TB, secrets, env map[string]string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	for name, value := range secrets {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"port": strconv.Itoa(port), "bind": "127.0.0.1", "secret_mount_path": dir,
		"log_format": "text", "log_level": "error",
	}
	_, sqlite := env["SQLITE_PATH"]
	_, mysql := env["MYSQL_DSN"]
	if !sqlite && !mysql {
		maps.Copy(vars, StoreEnv(t))
	}
	maps.Copy(vars, env)
	return vars
}

// Base returns the base URL of the function that runs with environ (from Env).
func Base(environ map[string]string) string {
	return "http://127.0.0.1:" + environ["port"]
}

// Run runs wire as function name with faas.RunEnv and environ until the test ends (then it must stop
// cleanly within 30 s), and returns its base URL once it answers /_/health with 200. It fails the test
// if the function stops or is not healthy within 30 s.
func Run(t testing.TB, name string, wire faas.Wiring, environ map[string]string) string {
	t.Helper()
	base := Base(environ)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- faas.RunEnv(ctx, name, wire, environ) }()
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
		status, _, err := Do(context.Background(), http.MethodGet, base+faas.HealthPath, "", nil)
		if err == nil && status == http.StatusOK {
			return base
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
func Start(t testing.TB, name string, wire faas.Wiring, secrets, env map[string]string) string {
	t.Helper()
	return Run(t, name, wire, Env(t, secrets, env))
}

// Store opens the store a function running with environ uses (SQLite at its SQLITE_PATH, or its MySQL
// database: the mysql-dsn secret, else MYSQL_DSN), so that a test can write what another process
// would. It is closed when the test ends.
func Store(t testing.TB, environ map[string]string) *sqlstore.Store {
	t.Helper()
	secrets := envSecrets{files: faas.NewSecrets(environ["secret_mount_path"]), env: environ}
	s, err := configured.OpenFrom(context.Background(), environ, secrets, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open the function's store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close the function's store: %v", err)
		}
	})
	return s
}

// envSecrets reads secrets as a function running with env does: the file, else env's fallback.
type envSecrets struct {
	files *faas.Secrets
	env   map[string]string
}

func (s envSecrets) Optional(name, envFallback string) (string, bool, error) {
	v, ok, err := s.files.Optional(name, "")
	if err != nil || ok {
		return v, ok, err
	}
	if v := s.env[envFallback]; envFallback != "" && v != "" {
		return v, true, nil
	}
	return "", false, nil
}

// Call sends method url with body (as application/json when not empty) and the header, and returns the
// answer's status and body. It fails the test when there is no answer.
func Call(t testing.TB, method, url, body string, header http.Header) (status int, answer string) {
	t.Helper()
	status, answer, err := Do(context.Background(), method, url, body, header)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return status, answer
}

// Do is Call that returns its error instead of failing a test: the request could not be built or sent,
// or the answer could not be read.
func Do(ctx context.Context, method, url, body string, header http.Header) (status int, answer string, err error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("build request: %w", err)
	}
	maps.Copy(req.Header, header)
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("send request: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, "", fmt.Errorf("read answer: %w", err)
	}
	return res.StatusCode, string(b), nil
}

// Bearer is the header of a request authenticated with token.
func Bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}
