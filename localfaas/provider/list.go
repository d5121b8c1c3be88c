package provider

import (
	"net/http"

	"github.com/openfaas/faas-provider/types"
)

// Lister lists the deployed functions.
type Lister interface {
	Functions() []types.FunctionStatus
}

// MakeListHandler serves GET /system/functions[?namespace=openfaas-fn]: every deployed function with
// its replicas; 400 for another namespace.
func MakeListHandler(l Lister) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := CheckNamespace(r.URL.Query().Get("namespace")); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, l.Functions())
	}
}
