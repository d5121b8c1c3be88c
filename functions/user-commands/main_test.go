package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/functions/stock-queries/stockqueriesapp"
	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/deadport"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// A symbol nobody follows yet is asked of Yahoo first: unknown (404 with chart.error) is a 400 naming
// ticker and changes nothing; a symbol already followed is not asked again.
func TestANewSymbolUnknownToYahooIsRefused(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	quotes.SetQuote("AAPL", 190, "USD", time.Now())
	env := faastest.Env(t, nil, map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL()})
	base := faastest.Run(t, usercommandsapp.Name, usercommandsapp.Wire, env)
	store := faastest.Store(t, env)

	status, body := faastest.Call(t, "POST", base+"/users", `{"email":"x@example.com","ticker":"NOSUCHSYM"}`, nil)
	if status != http.StatusBadRequest || !strings.Contains(body, `"field":"ticker"`) || !strings.Contains(body, "NOSUCHSYM") {
		t.Fatalf("POST /users with an unknown symbol = %d %s", status, body)
	}
	if n := storetest.Count(t, store.DB(), "users", ""); n != 0 {
		t.Fatalf("%d users stored after a refused registration", n)
	}
	if n := quotes.Requests("NOSUCHSYM"); n != 1 {
		t.Fatalf("Yahoo asked %d times about NOSUCHSYM, want 1", n)
	}

	status, body = faastest.Call(t, "POST", base+"/users", `{"email":"ann@example.com","ticker":"AAPL"}`, nil)
	if status != http.StatusCreated {
		t.Fatalf("POST /users with a known symbol = %d %s", status, body)
	}
	var reg struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(body), &reg); err != nil {
		t.Fatal(err)
	}
	status, body = faastest.Call(t, "PUT", base+"/users/ann@example.com/tickers/NOSUCHSYM", `{}`, faastest.Bearer(reg.Token))
	if status != http.StatusBadRequest || !strings.Contains(body, `"field":"ticker"`) {
		t.Fatalf("PUT an unknown symbol = %d %s", status, body)
	}
	if n := storetest.Count(t, store.DB(), "alert_rules", ""); n != 1 {
		t.Fatalf("%d subscriptions after a refused PUT, want 1", n)
	}

	// An account with no ticker asks Yahoo nothing (and logs no failed check).
	before := quotes.Requests("")
	if status, body = faastest.Call(t, "POST", base+"/users", `{"email":"cy@example.com"}`, nil); status != http.StatusCreated {
		t.Fatalf("POST /users without a ticker = %d %s", status, body)
	}
	if n := quotes.Requests(""); n != before {
		t.Fatalf("a registration without a ticker asked Yahoo %d times", n-before)
	}
	if n := storetest.Count(t, store.DB(), "unverified_symbols", ""); n != 0 {
		t.Fatalf("a registration without a ticker left %d unverified symbols", n)
	}

	// AAPL is followed now (a subscription): a second user's registration does not ask Yahoo again.
	before = quotes.Requests("AAPL")
	if status, body = faastest.Call(t, "POST", base+"/users", `{"email":"bob@example.com","ticker":"AAPL"}`, nil); status != http.StatusCreated {
		t.Fatalf("POST /users = %d %s", status, body)
	}
	if quotes.Requests("AAPL") != before {
		t.Fatal("a followed symbol was checked again")
	}
	if n := storetest.Count(t, store.DB(), "unverified_symbols", ""); n != 0 {
		t.Fatalf("%d unverified symbols, want none", n)
	}
}

// When Yahoo cannot be reached the symbol is accepted, and recorded as unverified for the collector.
func TestANewSymbolIsAcceptedUnverifiedWhenYahooIsUnreachable(t *testing.T) {
	t.Parallel()
	down := "http://" + deadport.Addr(t)
	env := faastest.Env(t, nil, map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": down})
	base := faastest.Run(t, usercommandsapp.Name, usercommandsapp.Wire, env)
	store := faastest.Store(t, env)

	status, body := faastest.Call(t, "POST", base+"/users", `{"email":"ann@example.com","ticker":"ZZZQ"}`, nil)
	if status != http.StatusCreated {
		t.Fatalf("POST /users with Yahoo unreachable = %d %s", status, body)
	}
	if n := storetest.Count(t, store.DB(), "unverified_symbols", "ticker = 'ZZZQ' AND misses = 0"); n != 1 {
		t.Fatalf("ZZZQ recorded unverified %d times, want 1", n)
	}
}

// TestSmoke runs the function as main does, on a free loopback port over a fresh store (SQLite, or a
// scratch MySQL database when MYSQL_DSN is set), and registers a user through it.
func TestSmoke(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	quotes.SetQuote("AAPL", 190, "USD", time.Now())
	base := faastest.Start(t, usercommandsapp.Name, usercommandsapp.Wire, nil, map[string]string{"TELEGRAM_BOT_USERNAME": "demo_bot",
		"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL()})

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

// A rule goes through the shipped wiring: created on user-commands, listed on stock-queries (the two
// functions over one store, as deployed), deleted on user-commands, and gone from the list.
func TestRuleCreateListDelete(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	quotes.SetQuote("AAPL", 190, "USD", time.Now())
	quotes.SetQuote("MSFT", 410, "USD", time.Now())
	storeEnv := faastest.StoreEnv(t)
	commands := faastest.Run(t, usercommandsapp.Name, usercommandsapp.Wire, faastest.Env(t, nil, withVars(storeEnv,
		map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL(), "MAX_RULES_PER_USER": "2"})))
	queries := faastest.Run(t, stockqueriesapp.Name, stockqueriesapp.Wire, faastest.Env(t, nil, storeEnv))

	status, body := faastest.Call(t, "POST", commands+"/users", `{"email":"rules@example.com","ticker":"AAPL","high_value":200}`, nil)
	if status != http.StatusCreated {
		t.Fatalf("POST /users = %d %s", status, body)
	}
	var reg struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(body), &reg); err != nil {
		t.Fatal(err)
	}
	auth := faastest.Bearer(reg.Token)
	status, body = faastest.Call(t, "POST", commands+"/users/rules@example.com/alerts",
		`{"ticker":"MSFT","kind":"change_pct","percent":3,"direction":"down","repeat":"once"}`, auth)
	if status != http.StatusCreated {
		t.Fatalf("POST alerts = %d %s", status, body)
	}
	var rule struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(body), &rule); err != nil || rule.ID == "" || rule.State != "armed" {
		t.Fatalf("created rule = %s (%v)", body, err)
	}
	// MAX_RULES_PER_USER=2: the registration's range and this rule are the user's two.
	if status, body := faastest.Call(t, "POST", commands+"/users/rules@example.com/alerts",
		`{"ticker":"MSFT","kind":"above","level":500}`, auth); status != http.StatusBadRequest || !strings.Contains(body, "at most 2") {
		t.Fatalf("a third rule = %d %s, want 400 naming the limit", status, body)
	}

	list := func() []string {
		t.Helper()
		status, body := faastest.Call(t, "GET", queries+"/users/rules@example.com/alerts", "", auth)
		if status != http.StatusOK {
			t.Fatalf("GET alerts = %d %s", status, body)
		}
		var got struct {
			Rules []struct {
				ID   string `json:"id"`
				Kind string `json:"kind"`
			} `json:"rules"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, r := range got.Rules {
			kinds = append(kinds, r.Kind+":"+r.ID)
		}
		return kinds
	}
	if got := list(); len(got) != 2 || got[1] != "change_pct:"+rule.ID || !strings.HasPrefix(got[0], "range:") {
		t.Fatalf("listed %v, want the AAPL range then change_pct:%s", got, rule.ID)
	}
	if status, body := faastest.Call(t, "DELETE", commands+"/users/rules@example.com/alerts/"+rule.ID, "", auth); status != http.StatusNoContent {
		t.Fatalf("DELETE alert = %d %s", status, body)
	}
	if got := list(); len(got) != 1 {
		t.Fatalf("after the delete listed %v, want the range alone", got)
	}
	if status, body := faastest.Call(t, "DELETE", commands+"/users/rules@example.com/alerts/"+rule.ID, "", auth); status != http.StatusNotFound ||
		body != `{"error":"no such rule"}`+"\n" {
		t.Fatalf("second DELETE = %d %s, want 404 no such rule", status, body)
	}
}

// withVars returns a copy of base with more set.
func withVars(base, more map[string]string) map[string]string {
	out := maps.Clone(base)
	maps.Copy(out, more)
	return out
}
