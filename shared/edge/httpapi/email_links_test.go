package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/httpapi"
	"github.com/stockalert/stockalert/shared/email"
	"github.com/stockalert/stockalert/shared/email/emailtest"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// emailAPI is the write side with the e-mail link pages, a real SMTP server and the verification
// command that mails the codes.
type emailAPI struct {
	*api
	srv  *emailtest.Server
	send command.SendEmailVerificationHandler
}

func newEmailAPI(t *testing.T) emailAPI {
	var e emailAPI
	e.srv = emailtest.New(t)
	sender, err := email.Open(email.Config{From: "alerts@example.com", Timeout: 5 * time.Second, PublicBaseURL: "https://a.example"},
		email.Secrets{URL: e.srv.URL()}, nil, email.WithRootCAs(e.srv.RootCAs()))
	require.NoError(t, err)
	var clock func() time.Time
	e.api = newAPIWith(t, storetest.Open, "", false, func(s *sqlstore.Store, d *httpapi.UserCommands) {
		now := func() time.Time { return clock() }
		d.VerifyEmail = command.NewVerifyEmailHandler(s, s, now, nil, nil)
		d.UnsubscribeEmail = command.NewUnsubscribeEmailHandler(s, now, nil, nil)
		e.send = command.NewSendEmailVerificationHandler(s, sender, command.EmailVerificationSettings{TTL: 24 * time.Hour, Now: now}, nil, nil)
	})
	clock = e.clock.Now
	return e
}

func (e emailAPI) emailChannel(addr string) stockalert.ChannelSettings {
	e.t.Helper()
	u, err := e.store.UserByEmail(context.Background(), stockalert.Email(addr))
	require.NoError(e.t, err)
	ch, err := e.store.EmailChannel(context.Background(), u.ID)
	require.NoError(e.t, err)
	return ch
}

// formHeader declares an HTML form's body.
var formHeader = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

func TestEmailVerifyPages(t *testing.T) {
	e := newEmailAPI(t)
	e.register(`{"email":"ann@example.com"}`)
	ctx := context.Background()
	require.NoError(t, e.send.Handle(ctx, command.SendEmailVerification{Email: "ann@example.com"}))
	code := e.srv.WaitMessages(t, 1, 5*time.Second)[0].VerificationCode(t)

	// A GET (a mail scanner's prefetch) shows the button and changes nothing.
	for range 2 {
		res := e.cmd(req{method: "GET", path: "/email/verify?code=" + code})
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.Equal(t, "text/html; charset=utf-8", res.header.Get("Content-Type"))
		require.Equal(t, "DENY", res.header.Get("X-Frame-Options"))
		require.Equal(t, "no-referrer", res.header.Get("Referrer-Policy"))
		require.Contains(t, res.body, `<form method="post" action="verify"><input type="hidden" name="code" value="`+code+`">`)
	}
	require.False(t, e.emailChannel("ann@example.com").Verified, "a GET changes nothing")
	res := e.cmd(req{method: "GET", path: "/email/verify?code=%3Cscript%3E"})
	require.Equal(t, http.StatusBadRequest, res.status)
	require.NotContains(t, res.body, "<script>")

	res = e.cmd(req{method: "POST", path: "/email/verify", body: "code=" + code, header: formHeader})
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, "Your address is confirmed")
	ch := e.emailChannel("ann@example.com")
	require.True(t, ch.Verified && ch.Enabled)

	res = e.cmd(req{method: "POST", path: "/email/verify", body: "code=" + code, header: formHeader})
	require.Equal(t, http.StatusBadRequest, res.status, "single use")
	require.Contains(t, res.body, "this code is unknown, already used or expired")

	t.Run("an expired code is refused and changes nothing", func(t *testing.T) {
		e.register(`{"email":"bob@example.com"}`)
		require.NoError(t, e.send.Handle(ctx, command.SendEmailVerification{Email: "bob@example.com"}))
		code := e.srv.WaitMessages(t, 2, 5*time.Second)[1].VerificationCode(t)
		e.clock.Advance(24*time.Hour + time.Second)
		res := e.cmd(req{method: "POST", path: "/email/verify", body: "code=" + code, header: formHeader})
		require.Equal(t, http.StatusBadRequest, res.status, res.body)
		require.False(t, e.emailChannel("bob@example.com").Verified)
	})
	t.Run("the code in the query of the POST works too", func(t *testing.T) {
		require.NoError(t, e.send.Handle(ctx, command.SendEmailVerification{Email: "bob@example.com"}))
		code := e.srv.WaitMessages(t, 3, 5*time.Second)[2].VerificationCode(t)
		res := e.cmd(req{method: "POST", path: "/email/verify?code=" + url.QueryEscape(code)})
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.True(t, e.emailChannel("bob@example.com").Verified)
	})
}

func TestEmailUnsubscribePages(t *testing.T) {
	e := newEmailAPI(t)
	e.register(`{"email":"ann@example.com"}`)
	ctx := context.Background()
	u, err := e.store.UserByEmail(ctx, "ann@example.com")
	require.NoError(t, err)
	on := func() {
		require.NoError(t, e.store.ConfirmEmail(ctx, u.ID, u.Email, "the-secret", e.clock.Now()))
	}
	on()
	token := command.EmailUnsubscribeToken(u.ID, "the-secret")
	path := "/email/unsubscribe?token=" + url.QueryEscape(token)

	res := e.cmd(req{method: "GET", path: path})
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, `action="unsubscribe"`)
	require.Contains(t, res.body, `value="`+token+`"`)
	require.True(t, e.emailChannel("ann@example.com").Enabled, "a GET changes nothing")

	for _, bad := range []string{"/email/unsubscribe?token=1.guess", "/email/unsubscribe?token=junk", "/email/unsubscribe"} {
		res := e.cmd(req{method: "POST", path: bad, body: "List-Unsubscribe=One-Click", header: formHeader})
		require.Equal(t, http.StatusBadRequest, res.status, bad)
		require.Contains(t, res.body, "this unsubscribe link is not valid")
	}
	require.True(t, e.emailChannel("ann@example.com").Enabled, "refused tokens change nothing")

	t.Run("RFC 8058 one-click, urlencoded", func(t *testing.T) {
		res := e.cmd(req{method: "POST", path: path, body: "List-Unsubscribe=One-Click", header: formHeader})
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.False(t, e.emailChannel("ann@example.com").Enabled)
		require.True(t, e.emailChannel("ann@example.com").Verified)
	})
	t.Run("RFC 8058 one-click, multipart/form-data", func(t *testing.T) {
		on()
		body := "--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n"
		res := e.cmd(req{method: "POST", path: path, body: body, header: map[string]string{"Content-Type": "multipart/form-data; boundary=b"}})
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.False(t, e.emailChannel("ann@example.com").Enabled)
	})
	t.Run("the page's button: the token in the form", func(t *testing.T) {
		on()
		res := e.cmd(req{method: "POST", path: "/email/unsubscribe", body: "token=" + url.QueryEscape(token), header: formHeader})
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.Contains(t, res.body, "E-mail alerts are off")
		require.False(t, e.emailChannel("ann@example.com").Enabled)
		res = e.cmd(req{method: "POST", path: "/email/unsubscribe", body: "token=" + url.QueryEscape(token), header: formHeader})
		require.Equal(t, http.StatusOK, res.status, "again: still off")
	})
}
