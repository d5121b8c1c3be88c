package faas

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/felixge/httpsnoop"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// UnmatchedRoute is the route label of a request whose handler named no route: a 404 of a ServeMux, a
// request refused before it reached the handler (413, 429), or a handler that is not a ServeMux and
// did not call SetRoute.
const UnmatchedRoute = "unmatched"

// StatusClientClosedRequest is the status logged and counted when the client went away before anything
// was answered. It is written to the connection only so that the metrics see it: nobody reads it.
const StatusClientClosedRequest = 499

// Middleware returns the chain Serve wraps around a function's handler, for use on its own in tests of
// handlers. From the outside in: metrics (promhttp), the request log, the max_inflight limit (429),
// the body limit (413), the exec_timeout deadline (504) and panic recovery (500). Apply it once.
//
// The metrics, labelled function=name, are faas_http_requests_total{code,method,route} (a counter),
// faas_http_request_duration_seconds{method,route} (a histogram, seconds) and
// faas_http_requests_in_flight (a gauge). code is the status answered (499 when the client left
// first); method is promhttp's lower-case method, "unknown" outside the standard set; route is the
// pattern of the http.ServeMux that served the request (Go 1.22 patterns such as "POST /users/{id}"),
// or whatever the handler passed to SetRoute, UnmatchedRoute otherwise, never the raw path. A request
// whose connection is aborted by a panic after its answer began is logged but not counted: promhttp
// counts answers only.
//
// Middleware registers the metrics on reg, unless reg is nil, and returns the error of a failed
// registration, such as a second Middleware on the same registry, or of an invalid cfg.
func Middleware(cfg Config, name string, logger *slog.Logger, reg prometheus.Registerer) (func(http.Handler) http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newHTTPMetrics(name, reg)
	if err != nil {
		return nil, err
	}
	var slots chan struct{}
	if cfg.MaxInflight > 0 {
		slots = make(chan struct{}, cfg.MaxInflight)
	}
	return func(h http.Handler) http.Handler {
		h = captureRoute(h)
		h = recoverPanics(logger, h)
		if cfg.ExecTimeout > 0 {
			h = execTimeout(cfg.ExecTimeout, h)
		}
		h = limitBody(cfg.MaxBodyBytes, h)
		if slots != nil {
			h = limitInflight(slots, h)
		}
		h = logRequests(logger, h)
		return m.instrument(h)
	}, nil
}

// SetRoute names the route of the request being served, for handlers that are not a ServeMux. The name
// must come from a small fixed set (it becomes a metric label). Outside Middleware it does nothing.
func SetRoute(r *http.Request, route string) {
	if p, ok := r.Context().Value(routeKey{}).(*atomic.Pointer[string]); ok && route != "" {
		p.Store(&route)
	}
}

type routeKey struct{}

// routeOf is the route named for the request whose context is ctx, or UnmatchedRoute. The holder is
// atomic because, under exec_timeout, a late handler may still name its route while the serving
// goroutine reads it.
func routeOf(ctx context.Context) string {
	if p, ok := ctx.Value(routeKey{}).(*atomic.Pointer[string]); ok {
		if route := p.Load(); route != nil {
			return *route
		}
	}
	return UnmatchedRoute
}

// captureRoute records the pattern the ServeMux inside h matched: the mux sets r.Pattern on the very
// request it is given, so it can be read once h returns. When h is a ServeMux the pattern is looked up
// before it runs too, so that a request answered before the handler returns (504, 499) has its route.
func captureRoute(h http.Handler) http.Handler {
	mux, _ := h.(*http.ServeMux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mux != nil {
			if _, pattern := mux.Handler(r); pattern != "" {
				SetRoute(r, pattern)
			}
		}
		defer func() {
			if r.Pattern != "" {
				SetRoute(r, r.Pattern)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// httpMetrics are the request metrics of one function process.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
}

func newHTTPMetrics(name string, reg prometheus.Registerer) (*httpMetrics, error) {
	labels := prometheus.Labels{"function": name}
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faas_http_requests_total", Help: "HTTP requests answered, by status code, method and route.",
			ConstLabels: labels,
		}, []string{"code", "method", "route"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "faas_http_request_duration_seconds", Help: "Time to answer an HTTP request, by method and route.",
			ConstLabels: labels, Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "faas_http_requests_in_flight", Help: "HTTP requests being served.",
			ConstLabels: labels,
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.duration, m.inflight} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register http metrics of %s: %w", name, err)
			}
		}
	}
	return m, nil
}

// instrument counts, times and gauges the requests h serves with promhttp, and gives each request the
// holder its route is named in (SetRoute), read for the route label once h returns.
func (m *httpMetrics) instrument(h http.Handler) http.Handler {
	route := promhttp.WithLabelFromCtx("route", routeOf)
	h = promhttp.InstrumentHandlerCounter(m.requests, h, route)
	h = promhttp.InstrumentHandlerDuration(m.duration, h, route)
	h = promhttp.InstrumentHandlerInFlight(m.inflight, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), routeKey{}, new(atomic.Pointer[string]))
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// logRequests logs each request once it is answered, even when a panic is on its way up to net/http
// (logged as 500). When the client left before anything was answered it writes
// StatusClientClosedRequest to the dead connection, for the metrics around it to count.
func logRequests(logger *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := httpsnoop.Metrics{} // Code stays 0 until the handler writes a status
		completed := false
		defer func() {
			status := got.Code
			switch {
			case !completed:
				status = http.StatusInternalServerError // a panic aborts the connection
			case status == 0 && got.Written == 0 && r.Context().Err() != nil:
				status = StatusClientClosedRequest
				w.WriteHeader(status)
			case status == 0:
				status = http.StatusOK
			}
			level := slog.LevelInfo
			if status >= http.StatusInternalServerError {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("route", routeOf(r.Context())), slog.Int("status", status),
				slog.Float64("duration_ms", float64(got.Duration.Microseconds())/1000), slog.Int64("bytes", got.Written),
			}
			if id := r.Header.Get("X-Call-Id"); id != "" {
				attrs = append(attrs, slog.String("call_id", id))
			}
			logger.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		got.CaptureMetrics(w, func(w http.ResponseWriter) { h.ServeHTTP(w, r) })
		completed = true
	})
}

// limitInflight answers 429 at once when every slot is taken.
func limitInflight(slots chan struct{}, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			h.ServeHTTP(w, r)
		default:
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many requests in flight (max_inflight %d)", cap(slots)), "")
		}
	})
}

// limitBody answers 413 when the declared length is over the limit, with the text of a
// *BodyTooLargeError and field "body" as the edges answer it, and caps the body of requests that do not
// declare it: reading past the cap fails with an *http.MaxBytesError, which the edge that reads the
// body maps to the same 413.
func limitBody(limit int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			writeError(w, http.StatusRequestEntityTooLarge, (&BodyTooLargeError{Limit: limit}).Error(), "body")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h.ServeHTTP(w, r)
	})
}

// recoverPanics turns a handler's panic into a logged 500. When the handler had already started its
// response, the connection is aborted instead, so the client cannot take a truncated answer for a whole
// one. http.ErrAbortHandler passes through untouched.
func recoverPanics(logger *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var started httpsnoop.Metrics
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler { //nolint:errorlint // net/http compares it the same way
				panic(p)
			}
			logger.ErrorContext(r.Context(), "handler panicked",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
			if started.Code != 0 || started.Written != 0 {
				panic(http.ErrAbortHandler)
			}
			writeError(w, http.StatusInternalServerError, "internal error", "")
		}()
		started.CaptureMetrics(w, func(w http.ResponseWriter) { h.ServeHTTP(w, r) })
	})
}

// execTimeout runs the handler in its own goroutine against a buffered response with a context that
// ends at the deadline. If the handler finishes first its response is copied out; otherwise the client
// gets 504 and the late handler's writes fail with http.ErrHandlerTimeout. Only this goroutine writes to
// the connection's ResponseWriter, so the two never race. A panic in the handler goroutine (those the
// recovery layer lets through) is raised again here, where net/http expects it.
func execTimeout(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		r = r.WithContext(ctx)
		bw := &bufferedWriter{ctx: ctx, header: make(http.Header)}
		done := make(chan struct{})
		panicked := make(chan any, 1)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					panicked <- p
					return
				}
				close(done)
			}()
			h.ServeHTTP(bw, r)
		}()
		select {
		case p := <-panicked:
			panic(p)
		case <-done:
			if !bw.stopped { // the handler is done, so this read does not race
				bw.copyTo(w)
				return
			}
		case <-ctx.Done():
			bw.stop()
		}
		// The deadline passed (or the client left) before the handler finished its response.
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			writeError(w, http.StatusGatewayTimeout, fmt.Sprintf("function exceeded exec_timeout of %s", d), "")
		}
		// Otherwise the client went away: there is no one to answer.
	})
}

// bufferedWriter holds a handler's response until execTimeout decides who answers. Once ctx has ended
// it takes no more writes, so a response is either complete before the deadline or not sent at all.
type bufferedWriter struct {
	ctx     context.Context
	mu      sync.Mutex
	header  http.Header
	status  int
	body    bytes.Buffer
	stopped bool
}

func (w *bufferedWriter) Header() http.Header { return w.header }

func (w *bufferedWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx.Err() != nil {
		w.stopped = true
	}
	if w.status == 0 && !w.stopped {
		w.status = code
	}
}

func (w *bufferedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx.Err() != nil {
		w.stopped = true
	}
	if w.stopped {
		return 0, http.ErrHandlerTimeout
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}

func (w *bufferedWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

// copyTo writes the buffered response; the handler goroutine has returned, so nothing else touches w's
// fields.
func (w *bufferedWriter) copyTo(dst http.ResponseWriter) {
	h := dst.Header()
	for k, vv := range w.header {
		h[k] = vv
	}
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	if h.Get("Content-Length") == "" && bodyAllowed(status) {
		h.Set("Content-Length", strconv.Itoa(w.body.Len()))
	}
	dst.WriteHeader(status)
	if w.body.Len() > 0 {
		_, _ = dst.Write(w.body.Bytes()) // the client's connection failing is not the handler's error
	}
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}
