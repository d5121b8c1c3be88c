package localfaas

import "net/http"

// healthHandler serves GET /healthz: 200 while the provider runs, 503 once it is shutting down.
func (p *Provider) healthHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p.ctx.Err() != nil {
			writeError(w, ErrStopped)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("OK"))
	}
}
