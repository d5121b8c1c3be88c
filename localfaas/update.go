package localfaas

import (
	"context"
	"fmt"
	"net/http"

	"github.com/openfaas/faas-provider/types"
)

// updateHandler serves PUT /system/functions: 200 when the new build is in place and its replicas are
// starting, 404 when the function is not deployed (faas-cli then deploys with POST), 400 as for a deploy.
func (p *Provider) updateHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req types.FunctionDeployment
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
		if err := p.Update(r.Context(), req); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

// Update rebuilds a deployed function and replaces its replicas with processes of the new build and
// settings (merged as in Deploy), keeping the replica count. The old processes serve until the new ones
// are ready. Errors wrap ErrNotFound, ErrInvalid or ErrStopped, or report the failed build.
func (p *Provider) Update(ctx context.Context, req types.FunctionDeployment) error {
	unlock := p.lock(req.Service)
	defer unlock()
	s, _, err := p.resolve(req)
	if err != nil {
		return err
	}
	f, err := p.function(s.name)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if s.binary, err = p.build(ctx, s.name, s.dir, true); err != nil {
		return err
	}
	if p.ctx.Err() != nil {
		return ErrStopped
	}
	p.replace(f, s, p.cfg.ReadyTimeout)
	p.log.Info("function updated", "function", s.name)
	return nil
}
