package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
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
// invocation.
type Invoker interface {
	Ready(name string) error
	Resolve(name string) (url.URL, error)
	Invoked(name string)
}

// MakeProxyHandler serves /function/{name}[.openfaas-fn][/path] through faas-provider's proxy: the
// method, path, query, headers and body go to a ready process of the function. It answers 404 for a
// function that is not deployed (or another namespace) and 503 when no process is ready, with a body
// saying why. cfg gives the proxy its timeout (ReadTimeout); m, when not nil, counts the invocations.
// Open: no basic auth, as in OpenFaaS.
func MakeProxyHandler(inv Invoker, m *Metrics, cfg types.FaaSConfig) http.HandlerFunc {
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
		start := time.Now()
		ww := fhttputil.NewHttpWriteInterceptor(w)
		upstream(ww, r)
		inv.Invoked(name)
		m.observe(name, ww.Status(), time.Since(start))
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
