package supervisor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/stockalert/stockalert/localfaas/classic"
)

// processEnv are the variables of localfaas's own environment a process function gets; the rest of
// its environment is its deployed envVars and the request's Http_* variables. Nothing else of
// localfaas's environment (which holds the admin password, tokens, the DSN) reaches it.
var processEnv = []string{"PATH", "HOME"}

// runClassic serves a process function's replica: the classic runner on a free 127.0.0.1 port, in
// localfaas's process, forking the fprocess per request, until ctx ends. The instance is marked ready
// by awaitHealth as a built function is.
func (in *instance) runClassic(ctx context.Context) error {
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen on a free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port //nolint:forcetypeassert // a tcp listener's address
	cfg := classic.FromEnv(in.spec.env)
	cfg.Process = in.spec.process
	cfg.Env = in.processEnviron()
	cfg.Log = in.record
	// Forks still running when the runner goes (after the grace below) are killed: without this they
	// outlived a deleted function and localfaas itself (a "sleep 987" fork was left to init).
	kill := make(chan struct{})
	var killOnce sync.Once
	killForks := func() { killOnce.Do(func() { close(kill) }) }
	defer killForks()
	cfg.Stop = kill
	srv := classic.Server(cfg)

	in.mu.Lock()
	in.tail = nil
	in.url = url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", fmt.Sprint(port))}
	in.mu.Unlock()
	in.record(fmt.Sprintf("localfaas: %s started (fprocess %q, port %d)", in.name, in.spec.process, port))

	started := time.Now()
	exited := make(chan struct{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	go in.awaitHealth(ctx, exited, started)
	select {
	case err = <-served:
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.s.cfg.StopGrace)
		err = srv.Shutdown(shutdown)
		cancel()
		if err != nil {
			killForks()
			err = errors.Join(err, srv.Close())
		}
	}
	close(exited)
	in.ready.Store(false)
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		return errors.New("runner stopped")
	}
	return fmt.Errorf("classic runner: %w", err)
}

// processEnviron is a process function's environment: PATH and HOME of localfaas's, then its
// deployed envVars.
func (in *instance) processEnviron() []string {
	env := map[string]string{}
	for _, k := range processEnv {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	for k, v := range in.spec.env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
