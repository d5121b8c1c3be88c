package provider

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	fhttputil "github.com/openfaas/faas-provider/httputil"
	"github.com/openfaas/faas-provider/proxy"
	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/stack"
)

// Invoker is what the gateway needs to invoke a function. Ready returns nil when a process of the
// function can take a request, or an error wrapping ErrNotFound (not deployed) or ErrUnavailable (why
// none is ready); Resolve returns the base URL of a ready process (the same errors); Invoked counts an
// invocation; MaxBodyBytes is the request body limit the function's environment sets (max_body_bytes,
// bytes), 0 when it sets none.
type Invoker interface {
	Ready(name string) error
	Resolve(name string) (url.URL, error)
	Invoked(name string)
	MaxBodyBytes(name string) int64
}

// MakeProxyHandler serves /function/{name}[.openfaas-fn][/path] through faas-provider's proxy: the
// method, path, query, headers and body go to a ready process of the function. It answers 404 for a
// function that is not deployed (or another namespace) and 503 when no process is ready, with a body
// saying why. cfg gives the proxy its timeout (ReadTimeout); m, when not nil, counts the invocations.
// Open: no basic auth, as in OpenFaaS.
//
// A body over the function's limit (its max_body_bytes, else defaultMaxBody; none when both are 0) is
// answered 413 {"error":"request body too large: larger than N bytes","field":"body"} by the gateway
// itself, the answer the function's runtime gives: at once when Content-Length declares it, without
// calling the function; and when a body without one (chunked) runs over while it is being relayed.
// Without this a function that answers 413 and closes while the proxy is still writing a large body
// can turn into a 500 "Can't reach service" (the connection is reset before its answer is read).
func MakeProxyHandler(inv Invoker, m *Metrics, cfg types.FaaSConfig, defaultMaxBody int64) http.HandlerFunc {
	upstream := proxy.NewHandlerFunc(cfg, resolver{inv}, false)
	return func(w http.ResponseWriter, r *http.Request) {
		name, err := functionName(mux.Vars(r)["name"])
		if err != nil {
			writeError(w, err)
			return
		}
		if err := inv.Ready(name); err != nil {
			writeError(w, err)
			return
		}
		appendForwardedFor(r)
		start := time.Now()
		limit := inv.MaxBodyBytes(name)
		if limit <= 0 {
			limit = defaultMaxBody
		}
		ww := fhttputil.NewHttpWriteInterceptor(w)
		switch {
		case limit > 0 && r.ContentLength > limit:
			writeTooLarge(ww, limit)
		case limit > 0 && r.Body != nil && r.Body != http.NoBody:
			body := &cappedBody{ReadCloser: r.Body, left: limit}
			r.Body = body
			upstream(&tooLargeWriter{ResponseWriter: ww, body: body, limit: limit}, r)
			inv.Invoked(name)
		default:
			upstream(ww, r)
			inv.Invoked(name)
		}
		m.observe(name, ww.Status(), time.Since(start))
	}
}

// appendForwardedFor adds the caller's address (host:port, as faas-provider writes it) to an
// X-Forwarded-For the request already carries, as a proxy does. faas-provider's proxy sets the header
// only when it is absent, which would let a client choose the address a function sees as its caller
// (and so, say, escape a per-address limit); with this the last entry is always the one the gateway saw.
func appendForwardedFor(r *http.Request) {
	if prior := r.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		r.Header.Set("X-Forwarded-For", strings.Join(prior, ", ")+", "+r.RemoteAddr)
	}
}

// writeTooLarge is the answer to a body over limit, the same as the function runtime's own 413.
func writeTooLarge(w http.ResponseWriter, limit int64) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, _ = fmt.Fprintf(w, `{"error":"request body too large: larger than %d bytes","field":"body"}`+"\n", limit) // the client has gone if this fails
}

// errBodyOverLimit ends the relaying of a body that ran over the function's limit.
var errBodyOverLimit = errors.New("request body over the function's max_body_bytes")

// cappedBody relays a request body until more than left bytes have been read, then fails the read, so
// that the proxy stops sending it.
type cappedBody struct {
	io.ReadCloser
	left int64
	over atomic.Bool
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.over.Load() {
		return 0, errBodyOverLimit
	}
	// Read one byte past the limit to tell "exactly at it" from "over it".
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		b.over.Store(true)
		return 0, errBodyOverLimit
	}
	return n, err
}

// tooLargeWriter answers 413 in place of whatever the proxy answers once the body ran over its limit
// (the proxy's 500 for the aborted request, or the function's own 413).
type tooLargeWriter struct {
	http.ResponseWriter
	body        *cappedBody
	limit       int64
	wroteHeader bool
	replaced    bool
}

func (w *tooLargeWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if w.body.over.Load() {
		w.replaced = true
		for k := range w.Header() {
			w.Header().Del(k)
		}
		writeTooLarge(w.ResponseWriter, w.limit)
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *tooLargeWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Flush lets the proxy stream an answer.
func (w *tooLargeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && !w.replaced {
		f.Flush()
	}
}

// functionName strips the namespace suffix faas-cli and the connectors add ("name.openfaas-fn").
func functionName(pathName string) (string, error) {
	name, ns, found := strings.Cut(pathName, ".")
	if found && ns != stack.Namespace {
		return "", fmt.Errorf("function %s: namespace %q: %w", name, ns, ErrNotFound)
	}
	return name, nil
}

// resolver gives faas-provider's proxy the address of a ready process of a function.
type resolver struct{ inv Invoker }

// Resolve implements proxy.BaseURLResolver.
func (r resolver) Resolve(pathName string) (url.URL, error) {
	name, err := functionName(pathName)
	if err != nil {
		return url.URL{}, err
	}
	u, err := r.inv.Resolve(name)
	if err != nil {
		return url.URL{}, fmt.Errorf("resolve %s: %w", name, err)
	}
	return u, nil
}
