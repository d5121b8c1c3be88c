package provider

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// maxRequestBody bounds the JSON bodies of the /system endpoints.
const maxRequestBody = 1 << 20

// decodeJSON reads a JSON request body; a malformed one is ErrInvalid.
func decodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	if len(body) > maxRequestBody {
		return Invalid("request body is larger than %d bytes", maxRequestBody)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return Invalid("request body is not valid JSON: %v", err)
	}
	return nil
}

// writeJSON answers 200 with v as JSON. An error writing the answer means the client has gone: there
// is nobody left to tell.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}
