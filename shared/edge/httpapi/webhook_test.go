package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/httpapi"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

func withWebhooks(allowHTTPLoopback bool) func(*sqlstore.Store, *httpapi.UserCommands) {
	return func(s *sqlstore.Store, d *httpapi.UserCommands) {
		d.RegisterWebhook = command.NewRegisterWebhookHandler(s, allowHTTPLoopback, nil, nil)
		d.DeleteWebhook = command.NewDeleteWebhookHandler(s, nil, nil)
		d.AllowHTTPLoopbackWebhooks = allowHTTPLoopback
	}
}

func (a *api) webhook(email string) stockalert.ChannelSettings {
	a.t.Helper()
	u, err := a.store.UserByEmail(context.Background(), stockalert.Email(email))
	require.NoError(a.t, err)
	all, err := a.store.ChannelSettings(context.Background(), u.ID)
	require.NoError(a.t, err)
	return all[2]
}

func TestWebhookRegistration(t *testing.T) {
	a := newAPIWith(t, storetest.Open, testBot, false, withWebhooks(false))
	reg := a.register(`{"email":"kim@example.com"}`)
	path := "/users/kim@example.com/webhook"

	res := a.cmd(req{method: "PUT", path: path, token: reg.Token, body: `{"url":"https://hooks.example.com/stockalert?k=1"}`})
	require.Equal(t, http.StatusOK, res.status, res.body)
	var got struct{ URL, Secret string }
	require.NoError(t, json.Unmarshal([]byte(res.body), &got))
	require.Equal(t, "https://hooks.example.com/stockalert?k=1", got.URL)
	require.True(t, strings.HasPrefix(got.Secret, "whsec_"), got.Secret)
	s := a.webhook("kim@example.com")
	require.Equal(t, stockalert.ChannelWebhook, s.Channel)
	require.True(t, s.Enabled)
	require.Equal(t, got.URL, s.Target)
	require.Equal(t, got.Secret, s.Secret)

	// A repeat gives a new secret.
	res = a.cmd(req{method: "PUT", path: path, token: reg.Token, body: `{"url":"https://hooks.example.com/v2"}`})
	require.Equal(t, http.StatusOK, res.status, res.body)
	var again struct{ URL, Secret string }
	require.NoError(t, json.Unmarshal([]byte(res.body), &again))
	require.NotEqual(t, got.Secret, again.Secret)
	require.Equal(t, again.Secret, a.webhook("kim@example.com").Secret)

	// Refused URLs name the field and change nothing.
	for _, body := range []string{`{}`, `{"url":null}`, `{"url":5}`, `{"url":""}`, `{"url":"http://hooks.example.com/x"}`,
		`{"url":"http://localhost:9000/x"}`, `{"url":"https://u:p@hooks.example.com/x"}`, `{"url":"ftp://hooks.example.com/x"}`,
		`{"url":"https://hooks.example.com/` + strings.Repeat("a", 2100) + `"}`, `{"url":"/relative"}`} {
		requireError(t, a.cmd(req{method: "PUT", path: path, token: reg.Token, body: body}), http.StatusBadRequest, "url")
	}
	require.Equal(t, again.Secret, a.webhook("kim@example.com").Secret)

	requireError(t, a.cmd(req{method: "PUT", path: path, token: "wrong", body: `{"url":"https://a.example.com/"}`}), http.StatusUnauthorized, "")

	res = a.cmd(req{method: "DELETE", path: path, token: reg.Token})
	require.Equal(t, http.StatusNoContent, res.status, res.body)
	s = a.webhook("kim@example.com")
	require.False(t, s.Enabled)
	require.Empty(t, s.Target)
	require.Empty(t, s.Secret)
	require.Equal(t, http.StatusNoContent, a.cmd(req{method: "DELETE", path: path, token: reg.Token}).status)
}

func TestWebhookHTTPLoopbackForDevelopment(t *testing.T) {
	a := newAPIWith(t, storetest.Open, testBot, false, withWebhooks(true))
	reg := a.register(`{"email":"lee@example.com"}`)
	path := "/users/lee@example.com/webhook"
	res := a.cmd(req{method: "PUT", path: path, token: reg.Token, body: `{"url":"http://127.0.0.1:9000/hook"}`})
	require.Equal(t, http.StatusOK, res.status, res.body)
	requireError(t, a.cmd(req{method: "PUT", path: path, token: reg.Token, body: `{"url":"http://hooks.example.com/x"}`}),
		http.StatusBadRequest, "url")
}
