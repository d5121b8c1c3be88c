package provider

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/openfaas/faas-provider/types"
)

// Scaler sets the replicas of a function. Scale's errors wrap ErrNotFound, ErrInvalid or ErrStopped.
type Scaler interface {
	Scale(name string, replicas uint64) error
}

// MakeScaleHandler serves POST /system/scale-function/{name} {"serviceName","replicas"}: 202 with the
// processes starting or stopping, 404 for a function not deployed, 400 for too many replicas.
func MakeScaleHandler(s Scaler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := mux.Vars(r)["name"]
		var req types.ScaleServiceRequest
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
		if req.ServiceName != "" && req.ServiceName != name {
			writeError(w, Invalid("serviceName %q does not match the function in the path, %q", req.ServiceName, name))
			return
		}
		if err := CheckNamespace(req.Namespace); err != nil {
			writeError(w, err)
			return
		}
		if err := s.Scale(name, req.Replicas); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}
