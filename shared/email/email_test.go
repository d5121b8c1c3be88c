package email_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/email"
	"github.com/stockalert/stockalert/shared/email/emailtest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

const base = "https://alerts.example.com"

func open(t *testing.T, srv *emailtest.Server, cfg email.Config, sec email.Secrets) *email.Sender {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "Stock alerts <alerts@example.com>"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.PublicBaseURL == "" {
		cfg.PublicBaseURL = base + "/"
	}
	if sec.URL == "" {
		sec.URL = srv.URL()
	}
	s, err := email.Open(cfg, sec, nil, email.WithRootCAs(srv.RootCAs()))
	require.NoError(t, err)
	require.True(t, s.On())
	return s
}

func delivery() command.ChannelDelivery {
	return command.ChannelDelivery{
		Alert: stockalert.AlertEvent{
			EventID: "ev-1", Email: "ann@example.com", Ticker: "AAPL", Condition: stockalert.Above,
			Kind: stockalert.KindAbove, Price: 201.3, Currency: "USD", Threshold: 200,
			Time: time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC), Note: `<script>alert("x")</script> & co`,
		},
		User: stockalert.User{ID: 42, Email: "ann@example.com"},
		Settings: stockalert.ChannelSettings{Channel: stockalert.ChannelEmail, Enabled: true, Target: "ann@example.com",
			Verified: true, Secret: "c2VjcmV0LXNlY3JldA"},
		Location: time.UTC,
	}
}

// parts reads a multipart/alternative message's parts by content type (decoded).
func parts(t *testing.T, msg *mail.Message) map[string]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	got := map[string]string{}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return got
		}
		require.NoError(t, err)
		ct, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		got[ct] = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
}

func TestAlertMail(t *testing.T) {
	srv := emailtest.New(t)
	s := open(t, srv, email.Config{}, email.Secrets{})
	require.Equal(t, stockalert.ChannelEmail, s.Channel())
	require.NoError(t, s.Deliver(context.Background(), delivery()))

	got := srv.WaitMessages(t, 1, 5*time.Second)
	require.Len(t, got, 1)
	require.Equal(t, []string{"ann@example.com"}, got[0].To)
	require.Equal(t, "alerts@example.com", got[0].From)
	require.Equal(t, 1, srv.TLSSessions(), "authenticated after STARTTLS")

	msg, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
	require.NoError(t, err)
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	require.Equal(t, "AAPL is above 200.00 USD", subject)
	require.Equal(t, "ann@example.com", strings.Trim(msg.Header.Get("To"), "<>"))
	unsub := msg.Header.Get("List-Unsubscribe")
	require.Equal(t, "<"+base+"/function/user-commands/email/unsubscribe?token=42.c2VjcmV0LXNlY3JldA>", unsub)
	require.Equal(t, "List-Unsubscribe=One-Click", msg.Header.Get("List-Unsubscribe-Post"))
	link := strings.Trim(unsub, "<>")
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.Equal(t, command.EmailUnsubscribeToken(42, "c2VjcmV0LXNlY3JldA"), u.Query().Get("token"))

	p := parts(t, msg)
	require.Contains(t, p["text/plain"], "🔔 AAPL is above 200.00 USD\nPrice: 201.30 USD at 2026-03-02 14:30 UTC")
	require.Contains(t, p["text/plain"], `Note: <script>alert("x")</script> & co`)
	require.Contains(t, p["text/plain"], "Stop e-mail alerts: "+link)
	html := p["text/html"]
	require.Contains(t, html, "AAPL is above 200.00 USD")
	require.Contains(t, html, "&lt;script&gt;", "values are escaped")
	require.NotContains(t, html, "<script>")
	require.Contains(t, html, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`)
}

func TestImplicitTLS(t *testing.T) {
	srv := emailtest.New(t, emailtest.ImplicitTLS())
	require.True(t, strings.HasPrefix(srv.URL(), "smtps://"))
	require.NoError(t, open(t, srv, email.Config{}, email.Secrets{}).Deliver(context.Background(), delivery()))
	require.Len(t, srv.WaitMessages(t, 1, 5*time.Second), 1)
	require.Equal(t, 1, srv.TLSSessions())
}

func TestStartTLSIsRequired(t *testing.T) {
	// A server whose certificate the client does not trust: the client refuses to go on in clear.
	srv := emailtest.New(t)
	s, err := email.Open(email.Config{From: "alerts@example.com", Timeout: 5 * time.Second, PublicBaseURL: base},
		email.Secrets{URL: srv.URL()}, nil)
	require.NoError(t, err)
	err = s.Deliver(context.Background(), delivery())
	require.Error(t, err)
	require.NotErrorIs(t, err, stockalert.ErrUndeliverable, "a TLS failure is the operator's to fix: transient")
	require.Empty(t, srv.Messages())
}

func TestCAFileTrustsThePrivateRelay(t *testing.T) {
	// SMTP_CA_FILE: the relay's self-signed certificate, read from a PEM file, is trusted.
	srv := emailtest.New(t)
	cfg := email.Config{From: "alerts@example.com", Timeout: 5 * time.Second, PublicBaseURL: base, CAFile: srv.CAFile(t)}
	s, err := email.Open(cfg, email.Secrets{URL: srv.URL()}, nil)
	require.NoError(t, err)
	require.NoError(t, s.Deliver(context.Background(), delivery()))
	require.Len(t, srv.WaitMessages(t, 1, 5*time.Second), 1)
	require.Equal(t, 1, srv.TLSSessions())

	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	cfg.CAFile = notPEM
	_, err = email.Open(cfg, email.Secrets{URL: srv.URL()}, nil)
	require.ErrorContains(t, err, "SMTP_CA_FILE")
	cfg.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	_, err = email.Open(cfg, email.Secrets{URL: srv.URL()}, nil)
	require.ErrorContains(t, err, "SMTP_CA_FILE")
}

func TestDKIMSignatureCoversUnsubscribeHeaders(t *testing.T) {
	srv := emailtest.New(t)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	s := open(t, srv, email.Config{DKIMDomain: "example.com", DKIMSelector: "alerts"}, email.Secrets{DKIMKey: keyPEM})
	require.NoError(t, s.Deliver(context.Background(), delivery()))
	got := srv.WaitMessages(t, 1, 5*time.Second)

	lookup := func(domain string) ([]string, error) {
		if domain != "alerts._domainkey.example.com" {
			return nil, errors.New("no such record: " + domain)
		}
		return []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(got[0].Data), &dkim.VerifyOptions{LookupTXT: lookup})
	require.NoError(t, err)
	require.Len(t, vs, 1)
	require.NoError(t, vs[0].Err)
	require.Equal(t, "example.com", vs[0].Domain)
	var keys []string
	for _, k := range vs[0].HeaderKeys {
		keys = append(keys, strings.ToLower(k))
	}
	require.Contains(t, keys, "list-unsubscribe")
	require.Contains(t, keys, "list-unsubscribe-post")
	require.Contains(t, keys, "from")

	// A relay that rewrites a signed header breaks the signature: the check above can fail.
	tampered := bytes.Replace(got[0].Data, []byte("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
		[]byte("List-Unsubscribe-Post: List-Unsubscribe=Two-Clicks"), 1)
	vs, err = dkim.VerifyWithOptions(bytes.NewReader(tampered), &dkim.VerifyOptions{LookupTXT: lookup})
	require.NoError(t, err)
	require.Error(t, vs[0].Err)
}

func TestDeliveryErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("4xx on RCPT is transient", func(t *testing.T) {
		srv := emailtest.New(t)
		srv.RefuseRecipients(451, "try again later")
		err := open(t, srv, email.Config{}, email.Secrets{}).Deliver(ctx, delivery())
		require.ErrorContains(t, err, "451")
		require.NotErrorIs(t, err, stockalert.ErrUndeliverable)
		require.NotErrorIs(t, err, stockalert.ErrChannelOff)
		require.Empty(t, srv.Messages())
	})
	t.Run("5xx on RCPT is undeliverable", func(t *testing.T) {
		srv := emailtest.New(t)
		srv.RefuseRecipients(550, "no such mailbox")
		err := open(t, srv, email.Config{}, email.Secrets{}).Deliver(ctx, delivery())
		require.ErrorIs(t, err, stockalert.ErrUndeliverable)
		var why command.UserReason
		require.ErrorAs(t, err, &why)
		require.Equal(t, "the mail server refused the address", why.UserReason(), "the history's reason: plain words, not the server's answer")
		require.Empty(t, srv.Messages())
	})
	t.Run("a server that does not answer is transient after SMTP_TIMEOUT", func(t *testing.T) {
		srv := emailtest.New(t)
		srv.Stall()
		err := open(t, srv, email.Config{Timeout: 300 * time.Millisecond}, email.Secrets{}).Deliver(ctx, delivery())
		require.ErrorContains(t, err, "i/o timeout")
		require.NotErrorIs(t, err, stockalert.ErrUndeliverable)
		srv.Release()
		require.Empty(t, srv.Messages())
	})
	t.Run("nothing listening is transient", func(t *testing.T) {
		srv := emailtest.New(t)
		s := open(t, srv, email.Config{}, email.Secrets{URL: "smtp://relay:s3cret@127.0.0.1:1"})
		err := s.Deliver(ctx, delivery())
		require.Error(t, err)
		require.NotErrorIs(t, err, stockalert.ErrUndeliverable)
	})
	t.Run("an address not confirmed gets nothing", func(t *testing.T) {
		srv := emailtest.New(t)
		d := delivery()
		d.Settings.Verified = false
		require.ErrorIs(t, open(t, srv, email.Config{}, email.Secrets{}).Deliver(ctx, d), stockalert.ErrUndeliverable)
		require.Empty(t, srv.Messages())
	})
	t.Run("no relay configured: the channel is off", func(t *testing.T) {
		s, err := email.Open(email.Config{}, email.Secrets{}, nil)
		require.NoError(t, err)
		require.False(t, s.On())
		require.ErrorIs(t, s.Deliver(ctx, delivery()), stockalert.ErrChannelOff)
		require.ErrorIs(t, s.SendVerification(ctx, "ann@example.com", "ABCDEFGH23", time.Hour), stockalert.ErrChannelOff)
	})
}

func TestVerificationMail(t *testing.T) {
	srv := emailtest.New(t)
	s := open(t, srv, email.Config{}, email.Secrets{})
	require.NoError(t, s.SendVerification(context.Background(), "bob@example.com", "ABCDE23456", 24*time.Hour))
	got := srv.WaitMessages(t, 1, 5*time.Second)
	msg, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
	require.NoError(t, err)
	require.Equal(t, "Confirm your address for stock alerts", msg.Header.Get("Subject"))
	p := parts(t, msg)
	require.Contains(t, p["text/plain"], base+"/function/user-commands/email/verify?code=ABCDE23456")
	require.Contains(t, p["text/plain"], "/verify ABCDE23456")
	require.Contains(t, p["text/plain"], "valid for 24h")
	require.Contains(t, p["text/html"], `href="`+base+`/function/user-commands/email/verify?code=ABCDE23456"`)
}

func TestOpenRefusesBadSettings(t *testing.T) {
	ok := email.Config{From: "alerts@example.com", Timeout: time.Second, PublicBaseURL: base}
	for name, c := range map[string]struct {
		cfg email.Config
		url string
	}{
		"unknown scheme":         {ok, "http://relay.example.com"},
		"no host":                {ok, "smtp://"},
		"bad port":               {ok, "smtp://relay.example.com:99999"},
		"tls=none off loopback":  {ok, "smtp://relay.example.com:25?tls=none"},
		"tls=none with password": {ok, "smtp://u:p@127.0.0.1:1025?tls=none"},
		"unknown tls value":      {ok, "smtp://127.0.0.1:1025?tls=maybe"},
		"no From":                {email.Config{Timeout: time.Second, PublicBaseURL: base}, "smtp://127.0.0.1:1025"},
		"no base URL":            {email.Config{From: "alerts@example.com", Timeout: time.Second}, "smtp://127.0.0.1:1025"},
		"zero timeout":           {email.Config{From: "alerts@example.com", PublicBaseURL: base}, "smtp://127.0.0.1:1025"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := email.Open(c.cfg, email.Secrets{URL: c.url}, nil)
			require.Error(t, err)
		})
	}
	_, err := email.Open(ok, email.Secrets{URL: "smtp://127.0.0.1:1025", DKIMKey: "not a key"}, nil)
	require.ErrorContains(t, err, "SMTP_DKIM_DOMAIN", "a key needs its domain and selector")
	withDKIM := ok
	withDKIM.DKIMDomain, withDKIM.DKIMSelector = "example.com", "alerts"
	_, err = email.Open(withDKIM, email.Secrets{URL: "smtp://127.0.0.1:1025", DKIMKey: "not a key"}, nil)
	require.ErrorContains(t, err, "PEM")
	s, err := email.Open(ok, email.Secrets{URL: "smtp://127.0.0.1:1025?tls=none"}, nil)
	require.NoError(t, err)
	require.True(t, s.On())
}
