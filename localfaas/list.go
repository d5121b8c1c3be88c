package localfaas

import "net/http"

// listHandler serves GET /system/functions[?namespace=openfaas-fn]: every deployed function with its
// replicas; 400 for another namespace.
func (p *Provider) listHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := checkNamespace(r.URL.Query().Get("namespace")); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, p.Functions())
	}
}

// checkNamespace accepts the empty namespace (the default) and openfaas-fn.
func checkNamespace(ns string) error {
	if ns != "" && ns != Namespace {
		return invalid("namespace %q does not exist: localfaas has only %s", ns, Namespace)
	}
	return nil
}
