package localfaas

import (
	"fmt"
	"net/http"
	"time"

	"github.com/openfaas/faas-provider/logs"
)

// logsHandler serves GET /system/logs?name=&instance=&tail=&since=&follow= as newline-delimited JSON
// ({name, namespace, instance, timestamp, text}) through faas-provider's log handler: the function's
// process output and localfaas's lines about its processes (start, exit, restart). 400 without a name,
// 404 for a function that never ran. A follow stream ends after timeout (the gateway's write timeout).
func (p *Provider) logsHandler(timeout time.Duration) http.HandlerFunc {
	if timeout <= 0 {
		timeout = time.Hour
	}
	stream := logs.NewLogHandlerFunc(p.logs, timeout)
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		name := q.Get("name")
		if name == "" {
			writeError(w, invalid("the name of the function is required (?name=)"))
			return
		}
		if err := checkNamespace(q.Get("namespace")); err != nil {
			writeError(w, err)
			return
		}
		if !p.logs.known(name) {
			writeError(w, fmt.Errorf("logs of function %s: %w", name, ErrNotFound))
			return
		}
		stream(w, r)
	}
}
