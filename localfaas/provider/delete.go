package provider

import (
	"context"
	"net/http"

	"github.com/openfaas/faas-provider/types"
)

// Deleter removes a deployed function. Delete's errors wrap ErrNotFound or ErrInvalid.
type Deleter interface {
	Delete(ctx context.Context, name string) error
}

// MakeDeleteHandler serves DELETE /system/functions {"functionName"}: 200 once the processes have
// exited, 404 when the function is not deployed.
func MakeDeleteHandler(d Deleter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req types.DeleteFunctionRequest
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
		if err := CheckNamespace(req.Namespace); err != nil {
			writeError(w, err)
			return
		}
		if err := d.Delete(r.Context(), req.FunctionName); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}
