package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
)

// TestAuthentication sends every authenticated route without valid credentials, in every way they
// can be wrong, and checks the answers are all the same 401: nothing tells whether the user exists,
// the body was never looked at, and nothing was written.
func TestAuthentication(t *testing.T) {
	a := newAPI(t, storetest.Open)
	nia := a.register(`{"email":"nia@example.com","ticker":"AAPL","high_value":200}`)
	oz := a.register(`{"email":"oz@example.com","ticker":"MSFT"}`)

	routes := []struct {
		h            func(req) resp
		method, path string
		body         string
	}{
		// Bodies and parameters that would be refused if they were looked at.
		{a.cmd, "PATCH", "/users/{email}", `{"tickr": 1}`},
		{a.cmd, "PUT", "/users/{email}/tickers/$$$", `[`},
		{a.cmd, "DELETE", "/users/{email}/tickers/AAPL", ""},
		{a.cmd, "DELETE", "/users/{email}", ""},
		{a.cmd, "POST", "/users/{email}/telegram-link", ""},
		{a.query, "GET", "/users/{email}", ""},
		{a.query, "GET", "/users/{email}/latest?nope=1", ""},
		{a.query, "GET", "/users/{email}/average?count=0", ""},
	}
	credentials := []struct {
		name, email string
		header      map[string]string
	}{
		{"no Authorization header", "nia@example.com", nil},
		{"an empty bearer token", "nia@example.com", map[string]string{"Authorization": "Bearer "}},
		{"a wrong token", "nia@example.com", map[string]string{"Authorization": "Bearer " + strings.Repeat("x", 32)}},
		{"the token with one character changed", "nia@example.com", map[string]string{"Authorization": "Bearer " + flip(nia.Token)}},
		{"another user's token", "nia@example.com", map[string]string{"Authorization": "Bearer " + oz.Token}},
		{"the token as Basic credentials", "nia@example.com", map[string]string{"Authorization": "Basic " + nia.Token}},
		{"the token without a scheme", "nia@example.com", map[string]string{"Authorization": nia.Token}},
		{"the link code as a token", "nia@example.com", map[string]string{"Authorization": "Bearer " + nia.TelegramLinkCode}},
		{"a huge token", "nia@example.com", map[string]string{"Authorization": "Bearer " + strings.Repeat(nia.Token, 1000)}},
		{"a user who does not exist", "nobody@example.com", map[string]string{"Authorization": "Bearer " + nia.Token}},
		{"a malformed e-mail", "not-an-email", map[string]string{"Authorization": "Bearer " + nia.Token}},
		{"an e-mail with a display name", "Nia%20%3Cnia@example.com%3E", map[string]string{"Authorization": "Bearer " + nia.Token}},
	}

	var first *resp
	for _, rt := range routes {
		for _, c := range credentials {
			t.Run(rt.method+" "+rt.path+" with "+c.name, func(t *testing.T) {
				before := a.rows()
				res := rt.h(req{method: rt.method, path: strings.Replace(rt.path, "{email}", c.email, 1), body: rt.body,
					header: c.header})
				requireError(t, res, http.StatusUnauthorized, "")
				require.Equal(t, `Bearer realm="stockalert"`, res.header.Get("WWW-Authenticate"))
				if first == nil {
					first = &res
				}
				require.Equal(t, first.body, res.body, "every refusal reads the same")
				require.Equal(t, first.header, res.header, "every refusal has the same headers")
				require.Equal(t, before, a.rows(), "nothing is written")
			})
		}
	}

	t.Run("the right token in any scheme case works", func(t *testing.T) {
		res := a.query(req{method: "GET", path: "/users/nia@example.com", header: map[string]string{"Authorization": "bearer " + nia.Token}})
		require.Equal(t, http.StatusOK, res.status, res.body)
	})
	t.Run("the e-mail in the path is decoded", func(t *testing.T) {
		odd := a.register(`{"email":"a/b+c@example.com","ticker":"AAPL"}`)
		res := a.query(req{method: "GET", path: "/users/a%2Fb%2Bc@example.com", token: odd.Token})
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.Contains(t, res.body, `"email":"a/b+c@example.com"`)
	})
}

// flip changes the last character of s.
func flip(s string) string {
	last := s[len(s)-1]
	if last == 'A' {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}
