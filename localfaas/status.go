package localfaas

import (
	"net/http"

	"github.com/gorilla/mux"
)

// statusHandler serves GET /system/function/{name}: the function's settings, replicas (wanted),
// availableReplicas (ready) and invocationCount; 404 when it is not deployed.
func (p *Provider) statusHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := checkNamespace(r.URL.Query().Get("namespace")); err != nil {
			writeError(w, err)
			return
		}
		st, err := p.Function(mux.Vars(r)["name"])
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	}
}
