// Command fn is the function localfaas's tests deploy. It listens on $port and serves:
//
//	GET  /_/health        200 OK (after $READY_DELAY)
//	POST /crash           exits with status 3 after writing "fn: crashing" to stderr
//	GET  /env?name=X      the value of environment variable X
//	GET  /secret?name=X   the content of $secret_mount_path/X
//	GET  /cron            one line per cron invocation seen: "<start unix nano> <end unix nano>"
//	GET  /redirect?to=U   302 to U
//	anything else         a JSON echo: pid, method, path, query, headers, body
//
// A POST / with the headers X-Connector: cron-connector and X-Topic: cron-function is recorded for /cron
// and takes $CRON_SLEEP. With $max_body_bytes set, a larger body is answered 413 "fn: body too large" as
// soon as it is seen (as a real function runtime does), and the connection closed.
// On SIGTERM it logs "fn: stopping" and exits 0.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	readyDelay, _ := time.ParseDuration(os.Getenv("READY_DELAY"))
	cronSleep, _ := time.ParseDuration(os.Getenv("CRON_SLEEP"))
	started := time.Now()
	var mu sync.Mutex
	var cronRuns []string

	mux := http.NewServeMux()
	mux.HandleFunc("GET /_/health", func(w http.ResponseWriter, r *http.Request) {
		if time.Since(started) < readyDelay {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "OK")
	})
	mux.HandleFunc("POST /crash", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(os.Stderr, "fn: crashing")
		os.Exit(3)
	})
	mux.HandleFunc("GET /env", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getenv(r.URL.Query().Get("name")))
	})
	mux.HandleFunc("GET /secret", func(w http.ResponseWriter, r *http.Request) {
		b, err := os.ReadFile(filepath.Join(os.Getenv("secret_mount_path"), filepath.Base(r.URL.Query().Get("name"))))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Write(b)
	})
	mux.HandleFunc("GET /cron", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprint(w, strings.Join(cronRuns, "\n"))
	})
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	maxBody, _ := strconv.ParseInt(os.Getenv("max_body_bytes"), 10, 64)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if maxBody > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "fn: body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if r.Method == http.MethodPost && r.URL.Path == "/" &&
			r.Header.Get("X-Connector") == "cron-connector" && r.Header.Get("X-Topic") == "cron-function" {
			start := time.Now()
			time.Sleep(cronSleep)
			mu.Lock()
			cronRuns = append(cronRuns, fmt.Sprintf("%d %d", start.UnixNano(), time.Now().UnixNano()))
			mu.Unlock()
		}
		fmt.Printf("fn: %s %s\n", r.Method, r.URL.RequestURI())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"pid":     os.Getpid(),
			"method":  r.Method,
			"path":    r.URL.Path,
			"query":   r.URL.RawQuery,
			"headers": r.Header,
			"body":    string(body),
		})
	})

	srv := &http.Server{Addr: "127.0.0.1:" + os.Getenv("port"), Handler: mux}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		fmt.Fprintln(os.Stderr, "fn: stopping")
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	fmt.Fprintf(os.Stderr, "fn: listening on %s\n", srv.Addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "fn:", err)
		os.Exit(1)
	}
}
