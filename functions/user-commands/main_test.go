package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/shared/faas/faastest"
)

// TestSmoke runs the function as main does, on a free loopback port over a fresh store (SQLite, or a
// scratch MySQL database when MYSQL_DSN is set), and registers a user through it.
func TestSmoke(t *testing.T) {
	t.Parallel()
	base := faastest.Start(t, usercommandsapp.Name, usercommandsapp.Wire, nil, map[string]string{"TELEGRAM_BOT_USERNAME": "demo_bot"})

	res, body := call(t, "POST", base+"/users", `{"email":"smoke@example.com","ticker":"AAPL","high_value":200}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST /users = %d %s", res.StatusCode, body)
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
	if res, body := call(t, "GET", base+"/users", ""); res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /users = %d %s", res.StatusCode, body)
	}
	_, metrics := call(t, "GET", base+"/metrics", "")
	for _, want := range []string{
		`faas_http_requests_total{code="201",function="user-commands",method="post",route="POST /users"} 1`,
		`stockalert_usecase_duration_seconds_count{kind="command",name="RegisterUser",outcome="ok"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func call(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}
