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

	"github.com/prometheus/client_golang/prometheus"
)

// UnmatchedRoute is the route label of a request whose handler named no route: a 404 of a ServeMux, a
// request refused before it reached the handler (413, 429), or a handler that is not a ServeMux and
// did not call SetRoute.
const UnmatchedRoute = "unmatched"

// StatusClientClosedRequest is the status logged and counted (never sent) when the client went away
// before the handler answered.
const StatusClientClosedRequest = 499

// Middleware returns the chain Serve wraps around a function's handler, for use on its own in tests of
// handlers. From the outside in: logging and metrics, the max_inflight limit (429), the body limit
// (413), the exec_timeout deadline (504) and panic recovery (500). Apply it once.
//
// The route label of the metrics is the pattern of the http.ServeMux that served the request (Go 1.22
// patterns such as "POST /users/{id}"), or whatever the handler passed to SetRoute; never the raw path.
//
// It registers its metrics (faas_http_requests_total, faas_http_request_duration_seconds,
// faas_http_requests_in_flight, labelled function=name) on reg, unless reg is nil, and returns the
// error of a failed registration, such as a second Middleware on the same registry.
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
		return instrument(logger, m, h)
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

// captureRoute records the pattern the ServeMux inside h matched: the mux sets r.Pattern on the very
// request it is given, so it can be read once h returns.
func captureRoute(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
			Name: "faas_http_requests_total", Help: "HTTP requests answered, by method, route and status.",
			ConstLabels: labels,
		}, []string{"method", "route", "status"}),
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

// methodLabel keeps the method label bounded: a client can send any token as a method.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// instrument logs each request and records its metrics once it is answered, even when a panic is on its
// way up to net/http.
func instrument(logger *slog.Logger, m *httpMetrics, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		route := new(atomic.Pointer[string])
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, route))
		sw := &statusWriter{ResponseWriter: w}
		m.inflight.Inc()
		completed := false
		defer func() {
			m.inflight.Dec()
			status := sw.status
			switch {
			case !completed:
				status = http.StatusInternalServerError // a panic aborts the connection
			case status == 0 && r.Context().Err() != nil:
				status = StatusClientClosedRequest
			case status == 0:
				status = http.StatusOK
			}
			routeName := UnmatchedRoute
			if p := route.Load(); p != nil {
				routeName = *p
			}
			elapsed := time.Since(start)
			method := methodLabel(r.Method)
			m.requests.WithLabelValues(method, routeName, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(method, routeName).Observe(elapsed.Seconds())
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("route", routeName), slog.Int("status", status),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000), slog.Int64("bytes", sw.bytes),
			}
			if id := r.Header.Get("X-Call-Id"); id != "" {
				attrs = append(attrs, slog.String("call_id", id))
			}
			logger.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		h.ServeHTTP(sw, r)
		completed = true
	})
}

// statusWriter remembers the status and size of the response it passes on.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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

// limitBody answers 413 when the declared length is over the limit and caps the body for requests that
// do not declare it; DecodeJSON reports a capped body as ErrBodyTooLarge.
func limitBody(limit int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit), "body")
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
		tw := &startedWriter{ResponseWriter: w}
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
			if tw.started {
				panic(http.ErrAbortHandler)
			}
			writeError(w, http.StatusInternalServerError, "internal error", "")
		}()
		h.ServeHTTP(tw, r)
	})
}

// startedWriter notes whether the response has begun.
type startedWriter struct {
	http.ResponseWriter
	started bool
}

func (w *startedWriter) WriteHeader(code int) {
	w.started = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *startedWriter) Write(p []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(p)
}

func (w *startedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
