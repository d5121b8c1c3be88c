package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/internal/faastest"
)

// TestSmoke runs the function as main does, on a free loopback port over a fresh store (SQLite, or a
// scratch MySQL database when MYSQL_DSN is set), and registers a user through it.
func TestSmoke(t *testing.T) {
	t.Parallel()
	base := faastest.Start(t, usercommandsapp.Name, usercommandsapp.Wire, nil, map[string]string{"TELEGRAM_BOT_USERNAME": "demo_bot"})

	status, body := faastest.Call(t, "POST", base+"/users", `{"email":"smoke@example.com","ticker":"AAPL","high_value":200}`, nil)
	if status != http.StatusCreated {
		t.Fatalf("POST /users = %d %s", status, body)
	}
	var reg struct {
		Email string `json:"email"`
		Token string `json:"token"`
		Link  string `json:"telegram_link"`
	}
	if err := json.Unmarshal([]byte(body), &reg); err != nil {
		t.Fatal(err)
	}
	if reg.Email != "smoke@example.com" || len(reg.Token) != 32 || !strings.HasPrefix(reg.Link, "https://t.me/demo_bot?start=") {
		t.Fatalf("registration = %s", body)
	}
	if status, body := faastest.Call(t, "GET", base+"/users", "", nil); status != http.StatusMethodNotAllowed {
		t.Fatalf("GET /users = %d %s", status, body)
	}
	_, metrics := faastest.Call(t, "GET", base+"/metrics", "", nil)
	for _, want := range []string{
		`faas_http_requests_total{code="201",function="user-commands",method="post",route="POST /users"} 1`,
		`stockalert_usecase_duration_seconds_count{kind="command",name="RegisterUser",outcome="ok"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
