package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	fhttputil "github.com/openfaas/faas-provider/httputil"
	"github.com/openfaas/faas-provider/types"
)

// nameExpression is faas-provider's bootstrap.NameExpression: the characters of a function name in a
// route.
const nameExpression = "-a-zA-Z_0-9."

// NewRouter puts h on the routes faas-provider v0.25.8's bootstrap.Serve registers (serve.go), with
// the same methods, and /metrics served by metrics when it is not nil. The /system routes are counted
// in m's provider_http_requests_total and provider_http_request_duration_seconds, as bootstrap.Serve
// counts them. Every handler of h but MutateNamespace and Telemetry must be set (Handlers sets them
// all); /system/namespace/{name} answers 501 as in bootstrap.
//
// localfaas serves this router itself (Serve) rather than through bootstrap.Serve, which always listens
// on every interface (":port") and can run only once per process.
func NewRouter(h *types.FaaSHandlers, m *Metrics, metrics http.Handler) *mux.Router {
	name := "{name:[" + nameExpression + "]+}"
	r := mux.NewRouter()
	sys := func(path, label string, fn http.HandlerFunc, methods ...string) {
		r.HandleFunc(path, m.instrument(fn, label)).Methods(methods...)
	}
	sys("/system/functions", "", h.FunctionLister, http.MethodGet)
	sys("/system/functions", "", h.DeployFunction, http.MethodPost)
	sys("/system/functions", "", h.DeleteFunction, http.MethodDelete)
	sys("/system/functions", "", h.UpdateFunction, http.MethodPut)
	sys("/system/function/"+name, "/system/function", h.FunctionStatus, http.MethodGet)
	sys("/system/scale-function/"+name, "/system/scale-function", h.ScaleFunction, http.MethodPost)
	sys("/system/info", "", h.Info, http.MethodGet)
	sys("/system/secrets", "", h.Secrets, http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete)
	sys("/system/logs", "", h.Logs, http.MethodGet)
	sys("/system/namespaces", "", h.ListNamespaces, http.MethodGet)
	namespace := "/system/namespace/{name:[" + nameExpression + "]*}"
	if h.MutateNamespace != nil {
		sys(namespace, "", h.MutateNamespace, http.MethodPost, http.MethodDelete, http.MethodPut, http.MethodGet)
	} else {
		sys(namespace, "", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "Feature not implemented in this version of OpenFaaS", http.StatusNotImplemented)
		}, http.MethodGet)
	}
	r.HandleFunc("/function/"+name, h.FunctionProxy)
	r.HandleFunc("/function/"+name+"/", h.FunctionProxy)
	r.HandleFunc("/function/"+name+"/{params:.*}", h.FunctionProxy)
	if h.Health != nil {
		r.HandleFunc("/healthz", h.Health).Methods(http.MethodGet)
	}
	if h.Telemetry != nil {
		sys("/system/telemetry", "", h.Telemetry, http.MethodGet)
	}
	if metrics != nil {
		r.Handle("/metrics", metrics)
	}
	return r
}

// Serve serves handler on ln with cfg's ReadTimeout and WriteTimeout (bootstrap.Serve's server
// settings) until ctx ends, then shuts down: the requests in flight finish first. It closes ln. Its
// error is the server's, never http.ErrServerClosed.
func Serve(ctx context.Context, ln net.Listener, handler http.Handler, cfg types.FaaSConfig) error {
	srv := &http.Server{
		Handler:           handler,
		ReadTimeout:       cfg.ReadTimeout,
		ReadHeaderTimeout: cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		MaxHeaderBytes:    http.DefaultMaxHeaderBytes,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("gateway: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	if err := srv.Shutdown(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("gateway: shut down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("gateway: serve on %s: %w", ln.Addr(), err)
	}
	return nil
}

// instrument counts the requests of a /system route as bootstrap.Serve's httpMetrics does: by status
// code, method and path (label when set, the request's path otherwise). A nil *Metrics counts nothing.
func (m *Metrics) instrument(next http.HandlerFunc, label string) http.HandlerFunc {
	if m == nil || next == nil {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := fhttputil.NewHttpWriteInterceptor(w)
		next.ServeHTTP(ww, r)
		path := r.URL.Path
		if label != "" {
			path = label
		}
		code := strconv.Itoa(ww.Status())
		m.httpRequests.WithLabelValues(code, r.Method, path).Inc()
		m.httpDuration.WithLabelValues(code, r.Method, path).Observe(time.Since(start).Seconds())
	}
}
