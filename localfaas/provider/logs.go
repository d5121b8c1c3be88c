package provider

import (
	"fmt"
	"net/http"
	"time"

	"github.com/openfaas/faas-provider/logs"
)

// LogSource serves the functions' output: faas-provider's logs.Requester, and Known, which reports
// whether a function has logs at all.
type LogSource interface {
	logs.Requester
	Known(name string) bool
}

// MakeLogsHandler serves GET /system/logs?name=&instance=&tail=&since=&follow= as newline-delimited
// JSON ({name, namespace, instance, timestamp, text}) through faas-provider's log handler. 400 without
// a name, 404 for a function that never ran. A follow stream ends after timeout (the gateway's write
// timeout; an hour when 0).
func MakeLogsHandler(src LogSource, timeout time.Duration) http.HandlerFunc {
	if timeout <= 0 {
		timeout = time.Hour
	}
	stream := logs.NewLogHandlerFunc(src, timeout)
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		name := q.Get("name")
		if name == "" {
			writeError(w, Invalid("the name of the function is required (?name=)"))
			return
		}
		if err := CheckNamespace(q.Get("namespace")); err != nil {
			writeError(w, err)
			return
		}
		if !src.Known(name) {
			writeError(w, fmt.Errorf("logs of function %s: %w", name, ErrNotFound))
			return
		}
		stream(w, r)
	}
}
