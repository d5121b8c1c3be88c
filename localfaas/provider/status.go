package provider

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/openfaas/faas-provider/types"
)

// Describer returns the status of one function; Function's error wraps ErrNotFound for a function not
// deployed.
type Describer interface {
	Function(name string) (types.FunctionStatus, error)
}

// MakeStatusHandler serves GET /system/function/{name}: the function's settings, replicas (wanted),
// availableReplicas (ready) and invocationCount; 404 when it is not deployed.
func MakeStatusHandler(d Describer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := CheckNamespace(r.URL.Query().Get("namespace")); err != nil {
			writeError(w, err)
			return
		}
		st, err := d.Function(mux.Vars(r)["name"])
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, st)
	}
}
