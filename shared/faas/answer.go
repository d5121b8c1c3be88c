package faas

import (
	"encoding/json"
	"net/http"
)

// answer is the JSON body of the runtime's own answers: health, and the watchdog limits (413, 429,
// 500, 504). The edges answer their own errors in the same shape through httpjson.
type answer struct {
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	Field  string `json:"field,omitempty"`
}

// writeAnswer writes a as JSON with status. Failing to write to a client that is gone is not reported:
// nothing can be done about it.
func writeAnswer(w http.ResponseWriter, status int, a answer) {
	body, err := json.Marshal(a)
	if err != nil { // answer has only strings: this cannot happen, but never write half a body
		body = []byte(`{"error":"internal error"}`)
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// writeError answers status with {"error": msg, "field": field}; field is left out when empty.
func writeError(w http.ResponseWriter, status int, msg, field string) {
	writeAnswer(w, status, answer{Error: msg, Field: field})
}
