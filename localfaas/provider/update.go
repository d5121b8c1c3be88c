package provider

import (
	"context"
	"net/http"

	"github.com/openfaas/faas-provider/types"
)

// Updater replaces a deployed function with a new build and settings. Update's errors wrap
// ErrNotFound, ErrInvalid or ErrStopped; any other is a 500.
type Updater interface {
	Update(ctx context.Context, req types.FunctionDeployment) error
}

// MakeUpdateHandler serves PUT /system/functions: 200 when the new build is in place and its replicas
// are starting, 404 when the function is not deployed (faas-cli then deploys with POST), 400 as for a
// deploy.
func MakeUpdateHandler(u Updater) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req types.FunctionDeployment
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
		if err := u.Update(r.Context(), req); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}
