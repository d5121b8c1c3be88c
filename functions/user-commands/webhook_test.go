package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/internal/faastest"
)

// The shipped wiring serves PUT and DELETE /users/{email}/webhook; http:// on loopback only with
// WEBHOOK_ALLOW_HTTP_LOOPBACK.
func TestWebhookRoutes(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{false, true} {
		env := faastest.Env(t, nil, map[string]string{"QUOTE_SOURCE": "simulated", "WEBHOOK_ALLOW_HTTP_LOOPBACK": map[bool]string{false: "false", true: "true"}[allow]})
		base := faastest.Run(t, usercommandsapp.Name, usercommandsapp.Wire, env)
		status, body := faastest.Call(t, "POST", base+"/users", `{"email":"ann@example.com"}`, nil)
		if status != http.StatusCreated {
			t.Fatalf("POST /users = %d %s", status, body)
		}
		var reg struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal([]byte(body), &reg); err != nil {
			t.Fatal(err)
		}
		path := base + "/users/ann@example.com/webhook"
		status, body = faastest.Call(t, "PUT", path, `{"url":"https://hooks.example.com/a"}`, faastest.Bearer(reg.Token))
		if status != http.StatusOK || !strings.Contains(body, `"secret":"whsec_`) {
			t.Fatalf("PUT webhook = %d %s", status, body)
		}
		status, body = faastest.Call(t, "PUT", path, `{"url":"http://127.0.0.1:9000/a"}`, faastest.Bearer(reg.Token))
		want := map[bool]int{false: http.StatusBadRequest, true: http.StatusOK}[allow]
		if status != want || (!allow && !strings.Contains(body, `"field":"url"`)) {
			t.Fatalf("PUT an http loopback webhook (allowed %v) = %d %s", allow, status, body)
		}
		if status, body = faastest.Call(t, "DELETE", path, "", faastest.Bearer(reg.Token)); status != http.StatusNoContent {
			t.Fatalf("DELETE webhook = %d %s", status, body)
		}
	}
}
