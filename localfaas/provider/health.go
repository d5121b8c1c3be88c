package provider

import "net/http"

// HealthChecker reports whether the provider can serve: Healthy returns nil, or an error wrapping
// ErrStopped once it is shutting down.
type HealthChecker interface {
	Healthy() error
}

// MakeHealthHandler serves GET /healthz: 200 while the provider runs, 503 once it is shutting down.
func MakeHealthHandler(h HealthChecker) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if err := h.Healthy(); err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("OK")) // a failed write means the client has gone
	}
}
