package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/httpapi"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// verifierSpy stands in for the e-mail channel's verification (its own branch sends the real mail):
// it keeps whom it was asked to verify.
type verifierSpy struct {
	mu   sync.Mutex
	sent []stockalert.Email
}

func (v *verifierSpy) SendVerification(_ context.Context, u stockalert.User) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.sent = append(v.sent, u.Email)
	return nil
}

func (v *verifierSpy) asked() []stockalert.Email {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]stockalert.Email(nil), v.sent...)
}

func TestChannels(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"ada@example.com","ticker":"AAPL","high_value":300}`)
	get := func() resp {
		t.Helper()
		res := a.query(req{method: "GET", path: "/users/ada@example.com/channels", token: reg.Token})
		require.Equal(t, http.StatusOK, res.status, res.body)
		return res
	}
	put := func(body string) resp {
		t.Helper()
		return a.cmd(req{method: "PUT", path: "/users/ada@example.com/channels", token: reg.Token, body: body})
	}
	require.JSONEq(t, `{"channels":[
		{"channel":"telegram","enabled":true,"verified":true},
		{"channel":"email","enabled":false,"target":"ada@example.com","verified":false},
		{"channel":"webhook","enabled":false,"verified":true}]}`, get().body)

	res := put(`{"telegram":{"enabled":false}}`)
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.JSONEq(t, `{"verification_sent":false}`, res.body)
	require.Contains(t, get().body, `{"channel":"telegram","enabled":false,"verified":true}`)

	t.Run("bad input is a 400 naming the field and changes nothing", func(t *testing.T) {
		before := get().body
		for _, tc := range []struct{ name, body, field string }{
			{"unknown channel", `{"sms":{"enabled":true}}`, "sms"},
			{"unknown field", `{"email":{"enabled":true,"colour":"red"}}`, "email.colour"},
			{"enabled missing", `{"email":{}}`, "email.enabled"},
			{"enabled not a boolean", `{"email":{"enabled":"yes"}}`, "email.enabled"},
			{"nothing to change", `{}`, "body"},
			{"not an object", `["email"]`, "body"},
		} {
			t.Run(tc.name, func(t *testing.T) { requireError(t, put(tc.body), http.StatusBadRequest, tc.field) })
		}
		require.Equal(t, before, get().body)
	})

	t.Run("a webhook without a URL cannot be turned on: 409 naming webhook, and nothing changes", func(t *testing.T) {
		res := put(`{"telegram":{"enabled":true},"webhook":{"enabled":true}}`)
		requireError(t, res, http.StatusConflict, "webhook")
		require.JSONEq(t, `{"error":"register the webhook's URL before turning it on","field":"webhook"}`, res.body)
		require.Contains(t, get().body, `{"channel":"telegram","enabled":false,"verified":true}`, "all or nothing")
	})

	t.Run("e-mail on a server without e-mail: 409 naming email", func(t *testing.T) {
		res := put(`{"email":{"enabled":true}}`)
		requireError(t, res, http.StatusConflict, "email")
		require.JSONEq(t, `{"error":"e-mail is not configured on this server","field":"email"}`, res.body)
		require.Contains(t, get().body, `{"channel":"email","enabled":false,"target":"ada@example.com","verified":false}`)
	})

	t.Run("the webhook's secret is never shown", func(t *testing.T) {
		u, err := a.store.UserByEmail(context.Background(), "ada@example.com")
		require.NoError(t, err)
		require.NoError(t, a.store.SetChannelTarget(context.Background(), u.ID, stockalert.ChannelWebhook,
			"https://hooks.example.com/ada", "whsec_c2VjcmV0LXNlY3JldA=="))
		res := put(`{"webhook":{"enabled":true}}`)
		require.Equal(t, http.StatusOK, res.status, res.body)
		body := get().body
		require.Contains(t, body, `{"channel":"webhook","enabled":true,"target":"https://hooks.example.com/ada","verified":true}`)
		require.NotContains(t, body, "whsec_")
	})

	t.Run("no token is a 401", func(t *testing.T) {
		requireError(t, a.cmd(req{method: "PUT", path: "/users/ada@example.com/channels", body: `{"email":{"enabled":true}}`}),
			http.StatusUnauthorized, "")
		requireError(t, a.query(req{method: "GET", path: "/users/ada@example.com/channels"}), http.StatusUnauthorized, "")
	})
}

// Turning e-mail on for an unconfirmed address sends the verification mail and turns the channel on,
// pending the confirmation; a confirmed address sends none.
func TestChannelsEmailSendsTheVerification(t *testing.T) {
	spy := &verifierSpy{}
	a := newAPIWith(t, storetest.Open, "", false, func(s *sqlstore.Store, d *httpapi.UserCommands) {
		d.EnableChannel = command.NewEnableChannelHandler(s, spy, nil, nil)
	})
	reg := a.register(`{"email":"eve@example.com","ticker":"AAPL","high_value":300}`)
	put := func(body string) resp {
		t.Helper()
		return a.cmd(req{method: "PUT", path: "/users/eve@example.com/channels", token: reg.Token, body: body})
	}
	res := put(`{"email":{"enabled":true}}`)
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.JSONEq(t, `{"verification_sent":true}`, res.body)
	require.Equal(t, []stockalert.Email{"eve@example.com"}, spy.asked())
	got := a.query(req{method: "GET", path: "/users/eve@example.com/channels", token: reg.Token})
	require.Contains(t, got.body, `{"channel":"email","enabled":true,"target":"eve@example.com","verified":false}`)

	u, err := a.store.UserByEmail(context.Background(), "eve@example.com")
	require.NoError(t, err)
	require.NoError(t, a.store.MarkChannelVerified(context.Background(), u.ID, stockalert.ChannelEmail, a.clock.Now()))
	res = put(`{"email":{"enabled":true}}`)
	require.JSONEq(t, `{"verification_sent":false}`, res.body)
	require.Len(t, spy.asked(), 1, "a confirmed address gets no second verification")
	res = put(`{"email":{"enabled":false}}`)
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Len(t, spy.asked(), 1)
}
