package localfaas

import (
	"context"
	"fmt"
	"net/http"

	"github.com/openfaas/faas-provider/types"
)

// deleteHandler serves DELETE /system/functions {"functionName"}: 200 once the processes have exited,
// 404 when the function is not deployed.
func (p *Provider) deleteHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req types.DeleteFunctionRequest
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
		if req.Namespace != "" && req.Namespace != Namespace {
			writeError(w, invalid("namespace %q does not exist: localfaas has only %s", req.Namespace, Namespace))
			return
		}
		if err := p.Delete(r.Context(), req.FunctionName); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

// Delete stops a function's processes (SIGTERM, then SIGKILL after the grace period) and forgets it; its
// logs stay readable. It returns when the processes have exited or ctx ends. Errors wrap ErrNotFound.
func (p *Provider) Delete(ctx context.Context, name string) error {
	if name == "" {
		return invalid("functionName is required")
	}
	unlock := p.lock(name)
	defer unlock()
	p.mu.Lock()
	f := p.functions[name]
	delete(p.functions, name)
	p.mu.Unlock()
	if f == nil {
		return fmt.Errorf("delete function %s: %w", name, ErrNotFound)
	}
	stopped := f.stopAll()
	done := make(chan struct{})
	go func() {
		awaitStopped(stopped, 2*p.cfg.StopGrace)
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	p.log.Info("function deleted", "function", name)
	return nil
}
