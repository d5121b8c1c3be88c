package provider

import (
	"context"
	"net/http"

	"github.com/openfaas/faas-provider/types"
)

// Deployer deploys a function. Deploy's errors wrap ErrInvalid, ErrExists or ErrStopped; any other is
// a 500 (a failed build, with the compiler's output).
type Deployer interface {
	Deploy(ctx context.Context, req types.FunctionDeployment) error
}

// MakeDeployHandler serves POST /system/functions: 202 when the function is built and its processes
// are starting, 400 for an image or function not in stack.yml (unless its envProcess makes it a process
// function), 409 when it is already deployed.
func MakeDeployHandler(d Deployer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req types.FunctionDeployment
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
		if err := d.Deploy(r.Context(), req); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}
