package localfaas

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	fhttputil "github.com/openfaas/faas-provider/httputil"
	"github.com/openfaas/faas-provider/proxy"
	"github.com/openfaas/faas-provider/types"
)

// proxyHandler serves /function/{name}[.openfaas-fn][/path] through faas-provider's proxy: the method,
// path, query, headers and body go to one of the function's ready processes, in turns. It answers 404
// for a function that is not deployed (or another namespace) and 503 when no process is ready, with a
// body saying why. Open: no basic auth, as in OpenFaaS.
func (p *Provider) proxyHandler(cfg types.FaaSConfig) http.HandlerFunc {
	upstream := proxy.NewHandlerFunc(cfg, resolver{p}, false)
	return func(w http.ResponseWriter, r *http.Request) {
		name, err := functionName(mux.Vars(r)["name"])
		if err != nil {
			writeError(w, err)
			return
		}
		f, err := p.function(name)
		if err != nil {
			writeError(w, err)
			return
		}
		if err := f.ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		start := time.Now()
		ww := fhttputil.NewHttpWriteInterceptor(w)
		upstream(ww, r)
		f.invocations.Add(1)
		code := strconv.Itoa(ww.Status())
		p.metrics.invocations.WithLabelValues(name+"."+Namespace, code).Inc()
		p.metrics.duration.WithLabelValues(name+"."+Namespace, code).Observe(time.Since(start).Seconds())
	}
}

// functionName strips the namespace suffix faas-cli and the connectors add ("name.openfaas-fn").
func functionName(pathName string) (string, error) {
	name, ns, found := strings.Cut(pathName, ".")
	if found && ns != Namespace {
		return "", fmt.Errorf("function %s: namespace %q: %w", name, ns, ErrNotFound)
	}
	return name, nil
}

// resolver gives faas-provider's proxy the address of a ready process of a function.
type resolver struct{ p *Provider }

// Resolve implements proxy.BaseURLResolver.
func (r resolver) Resolve(pathName string) (url.URL, error) {
	name, err := functionName(pathName)
	if err != nil {
		return url.URL{}, err
	}
	f, err := r.p.function(name)
	if err != nil {
		return url.URL{}, err
	}
	in, err := f.pick()
	if err != nil {
		return url.URL{}, err
	}
	return in.address(), nil
}
