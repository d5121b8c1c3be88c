package localfaas

import (
	"fmt"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/openfaas/faas-provider/types"
)

// scaleHandler serves POST /system/scale-function/{name} {"serviceName","replicas"}: 202 with the
// processes starting or stopping, 404 for a function not deployed, 400 for too many replicas.
func (p *Provider) scaleHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := mux.Vars(r)["name"]
		var req types.ScaleServiceRequest
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
		if req.ServiceName != "" && req.ServiceName != name {
			writeError(w, invalid("serviceName %q does not match the function in the path, %q", req.ServiceName, name))
			return
		}
		if req.Namespace != "" && req.Namespace != Namespace {
			writeError(w, invalid("namespace %q does not exist: localfaas has only %s", req.Namespace, Namespace))
			return
		}
		if err := p.Scale(name, req.Replicas); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

// Scale sets how many processes a function runs, starting or stopping some; 0 stops them all (the
// function stays deployed). Stopped processes exit in the background. Errors wrap ErrNotFound or
// ErrInvalid.
func (p *Provider) Scale(name string, replicas uint64) error {
	if replicas > uint64(p.cfg.MaxReplicas) {
		return invalid("replicas must be at most %d, not %d", p.cfg.MaxReplicas, replicas)
	}
	unlock := p.lock(name)
	defer unlock()
	f, err := p.function(name)
	if err != nil {
		return fmt.Errorf("scale: %w", err)
	}
	if p.ctx.Err() != nil {
		return ErrStopped
	}
	p.scaleTo(f, int(replicas))
	p.log.Info("function scaled", "function", name, "replicas", replicas)
	return nil
}
