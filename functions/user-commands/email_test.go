package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/internal/faastest"
)

// The shipped wiring serves the e-mail channel's link pages: a GET shows a button, a POST with a code
// or token nobody was given is a 400 page that changes nothing.
func TestEmailLinkPagesAreServed(t *testing.T) {
	t.Parallel()
	base := faastest.Start(t, usercommandsapp.Name, usercommandsapp.Wire,
		map[string]string{"smtp-url": "smtp://127.0.0.1:1025?tls=none"},
		map[string]string{"QUOTE_SOURCE": "simulated", "SMTP_FROM": "alerts@example.com", "PUBLIC_BASE_URL": "https://alerts.example.com"})

	status, body := faastest.Call(t, "GET", base+"/email/verify?code=ABCDE23456", "", nil)
	if status != http.StatusOK || !strings.Contains(body, `<form method="post" action="verify">`) {
		t.Fatalf("GET /email/verify = %d %s", status, body)
	}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	status, body = faastest.Call(t, "POST", base+"/email/verify", "code=ABCDE23456", form)
	if status != http.StatusBadRequest || !strings.Contains(body, "this code is unknown, already used or expired") {
		t.Fatalf("POST /email/verify with a code nobody was sent = %d %s", status, body)
	}
	status, body = faastest.Call(t, "POST", base+"/email/unsubscribe?token=1.guess", "List-Unsubscribe=One-Click", form)
	if status != http.StatusBadRequest || !strings.Contains(body, "this unsubscribe link is not valid") {
		t.Fatalf("one-click POST with a wrong token = %d %s", status, body)
	}
}
