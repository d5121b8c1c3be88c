package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
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

// InvocationObserver is told of the invocations of deployed functions: Started when one is let
// through to the function (or waits for it to wake), Finished with the status the caller got.
type InvocationObserver interface {
	Started(name string)
	Finished(name string, status int)
}

// Waker wakes a function that has no ready replica because it is scaled to zero. Wake returns nil
// once a replica is ready, or an error wrapping ErrNotFound or ErrUnavailable (not woken in time, or
// not a function at zero replicas: then it is Ready's error).
type Waker interface {
	Wake(ctx context.Context, name string) error
}

// ProxyOptions are MakeProxyHandler's settings; the zero value proxies with no body limit of its own,
// no observer and no scale from zero.
type ProxyOptions struct {
	// DefaultMaxBodyBytes is the body limit of a function whose environment sets none (0: none).
	DefaultMaxBodyBytes int64
	// Observer, when not nil, is told of each invocation.
	Observer InvocationObserver
	// Waker, when not nil, is asked to wake a function that is not ready (see MakeProxyHandler).
	Waker Waker
}

// The headers of the OpenFaaS gateway's call-id middleware (gateway/handlers/callid_middleware.go in
// github.com/openfaas/faas): a call's id (a UUID, kept when the caller sent one) and the time the
// gateway received it, in Unix nanoseconds (UTC), on the request to the function and on the answer.
const (
	HeaderCallID    = "X-Call-Id"
	HeaderStartTime = "X-Start-Time"
)

// MakeProxyHandler serves /function/{name}[.openfaas-fn][/path] through faas-provider's proxy: the
// method, path, query, headers and body go to a ready process of the function, and its answer comes
// back as it is (redirects are passed back, not followed). faas-provider proxies GET, POST, PUT, PATCH,
// DELETE, OPTIONS and HEAD; any other method goes through net/http/httputil's ReverseProxy, the same
// way. Like the OpenFaaS gateway it adds X-Call-Id and X-Start-Time to the request and to the answer.
// It answers 404 for a function that is not deployed (or another namespace) and 503 when no process
// is ready, with a body saying why; with a Waker, a function without a ready process is first woken
// (a function scaled to zero is scaled up and the call waits for it, see the Waker). cfg gives the
// proxy its timeout (ReadTimeout); m, when not nil, counts the invocations. Open: no basic auth, as in
// OpenFaaS.
//
// A body over the function's limit (its max_body_bytes, else DefaultMaxBodyBytes; none when both are
// 0) is answered 413 {"error":"request body too large: larger than N bytes","field":"body"} by the
// gateway itself, the answer the function's runtime gives: at once when Content-Length declares it,
// without calling the function; and when a body without one (chunked) runs over while it is being
// relayed. Without this a function that answers 413 and closes while the proxy is still writing a
// large body can turn into a 500 "Can't reach service" (the connection is reset before its answer is
// read).
func MakeProxyHandler(inv Invoker, m *Metrics, cfg types.FaaSConfig, opts ProxyOptions) http.HandlerFunc {
	providerProxy := proxy.NewHandlerFunc(cfg, resolver{inv}, false)
	otherProxy := newMethodProxy(inv, cfg.ReadTimeout)
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		tagCall(w, r, start)
		name, err := functionName(mux.Vars(r)["name"])
		if err != nil {
			writeError(w, err)
			return
		}
		if err := inv.Ready(name); err != nil {
			if opts.Waker == nil || !errors.Is(err, ErrUnavailable) {
				writeError(w, err)
				return
			}
			if opts.Observer != nil {
				opts.Observer.Started(name)
			}
			if err := opts.Waker.Wake(r.Context(), name); err != nil {
				if opts.Observer != nil {
					opts.Observer.Finished(name, statusOf(err))
				}
				writeError(w, err)
				return
			}
		} else if opts.Observer != nil {
			opts.Observer.Started(name)
		}
		upstream := providerProxy
		if !providerMethods[r.Method] {
			upstream = otherProxy
		}
		appendForwardedFor(r)
		limit := inv.MaxBodyBytes(name)
		if limit <= 0 {
			limit = opts.DefaultMaxBodyBytes
		}
		ww := fhttputil.NewHttpWriteInterceptor(w)
		if opts.Observer != nil {
			// Deferred: a call that panics (http.ErrAbortHandler from the reverse proxy, say) is
			// finished too, or the function would count as busy forever and never idle to zero.
			defer func() { opts.Observer.Finished(name, ww.Status()) }()
		}
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

// tagCall adds the call-id middleware's headers to the request and to its answer: X-Call-Id (the
// caller's, else a new UUID) and X-Start-Time (start in Unix nanoseconds).
func tagCall(w http.ResponseWriter, r *http.Request, start time.Time) {
	id := r.Header.Get(HeaderCallID)
	if id == "" {
		id = uuid.NewString()
		r.Header.Set(HeaderCallID, id)
	}
	at := strconv.FormatInt(start.UTC().UnixNano(), 10)
	r.Header.Set(HeaderStartTime, at)
	w.Header().Set(HeaderCallID, id)
	w.Header().Set(HeaderStartTime, at)
}

// providerMethods are the methods faas-provider v0.25.8's proxy.NewHandlerFunc relays (it answers 405
// to the others).
var providerMethods = map[string]bool{
	http.MethodGet: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodOptions: true, http.MethodHead: true,
}

// newMethodProxy relays a request with a method faas-provider's proxy refuses (TRACE, PROPFIND, ...)
// to a ready process of the function, to the same path and query as faas-provider would, within
// timeout.
func newMethodProxy(inv Invoker, timeout time.Duration) http.HandlerFunc {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			base := pr.In.Context().Value(baseURLKey{}).(url.URL) //nolint:forcetypeassert // set below, always a url.URL
			pr.Out.URL.Scheme, pr.Out.URL.Host = base.Scheme, base.Host
			pr.Out.URL.Path = "/" + mux.Vars(pr.In)["params"]
			pr.Out.URL.RawPath = ""
			pr.Out.URL.RawQuery = pr.In.URL.RawQuery
			pr.Out.Host = ""
			if xff := pr.In.Header.Values("X-Forwarded-For"); len(xff) > 0 {
				pr.Out.Header["X-Forwarded-For"] = xff
			} else {
				pr.Out.Header.Set("X-Forwarded-For", pr.In.RemoteAddr)
			}
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, fmt.Sprintf("Can't reach service: %v", err), http.StatusInternalServerError)
		},
	}
	return func(w http.ResponseWriter, r *http.Request) {
		base, err := resolver{inv}.Resolve(mux.Vars(r)["name"])
		if err != nil {
			writeError(w, err)
			return
		}
		ctx := r.Context()
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		rp.ServeHTTP(w, r.WithContext(context.WithValue(ctx, baseURLKey{}, base)))
	}
}

type baseURLKey struct{}

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
