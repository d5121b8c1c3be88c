// Package emailtest runs a real SMTP server in-process for tests (github.com/emersion/go-smtp): it
// offers STARTTLS with a self-signed certificate made at start, requires AUTH PLAIN with the user and
// password of its URL, keeps every accepted message in memory for the test to read, and can be told to
// refuse recipients (4xx or 5xx, as a real server answers RCPT TO) or to stall, so that a client's
// timeout shows.
package emailtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The credentials the server accepts (AUTH PLAIN).
const (
	User     = "relay"
	Password = "s3cret"
)

// Message is one mail the server accepted: the envelope and the message as sent (RFC 5322, CRLF).
type Message struct {
	From string
	To   []string
	Data []byte
}

// Server is the running SMTP server.
type Server struct {
	addr     string
	implicit bool
	roots    *x509.CertPool
	certPEM  []byte

	mu       sync.Mutex
	messages []Message
	arrived  chan struct{} // closed and replaced on every accepted message
	rcptErr  *smtp.SMTPError
	stall    chan struct{} // while non-nil, RCPT TO waits until it is closed
	starttls int           // sessions that switched to TLS before AUTH
}

// Option changes the server.
type Option func(*Server)

// ImplicitTLS makes the server speak TLS from the first byte (SMTPS, RFC 8314), as on port 465,
// instead of offering STARTTLS; URL then starts with smtps://.
func ImplicitTLS() Option { return func(s *Server) { s.implicit = true } }

// New starts a server on a loopback port; it stops when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cert, roots := selfSigned(t)
	s := &Server{roots: roots, arrived: make(chan struct{}),
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})}
	for _, o := range opts {
		o(s)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("emailtest: listen: %v", err)
	}
	s.addr = l.Addr().String()
	if s.implicit {
		l = tls.NewListener(l, srv.TLSConfig)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		s.Release()
		_ = srv.Close()
		_ = l.Close() // Serve may not have registered l with srv yet
		<-done
	})
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// URL is the smtp-url secret that reaches the server: smtp://relay:s3cret@127.0.0.1:<port> (STARTTLS),
// or smtps://… with ImplicitTLS.
func (s *Server) URL() string {
	scheme := "smtp"
	if s.implicit {
		scheme = "smtps"
	}
	return scheme + "://" + User + ":" + Password + "@" + s.addr
}

// RootCAs holds the server's self-signed certificate, for the client's TLS configuration.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// CAFile writes the server's self-signed certificate (PEM) to a file in the test's temporary directory
// and returns its path: the value of SMTP_CA_FILE for a client that connects through its environment
// (shared/email.Config.CAFile).
func (s *Server) CAFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(path, s.certPEM, 0o600); err != nil {
		t.Fatalf("emailtest: write CA file: %v", err)
	}
	return path
}

// RefuseRecipients makes every RCPT TO answer code (e.g. 450 or 550) with text; code 0 accepts again.
func (s *Server) RefuseRecipients(code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.rcptErr = nil
		return
	}
	s.rcptErr = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: text}
}

// Stall makes RCPT TO wait, without answering, until Release (or the end of the test).
func (s *Server) Stall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stall == nil {
		s.stall = make(chan struct{})
	}
}

// Release ends a Stall.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stall != nil {
		close(s.stall)
		s.stall = nil
	}
}

// Messages returns the accepted messages, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// WaitMessages waits until at least n messages were accepted and returns them, or fails the test
// after timeout.
func (s *Server) WaitMessages(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, arrived := append([]Message(nil), s.messages...), s.arrived
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-arrived:
		case <-deadline.C:
			t.Fatalf("emailtest: %d message(s) arrived in %s, want %d", len(got), timeout, n)
		}
	}
}

// TLSSessions counts the sessions that authenticated over TLS (STARTTLS, or implicit TLS).
func (s *Server) TLSSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starttls
}

type session struct {
	s    *Server
	conn *smtp.Conn
	from string
	to   []string
}

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != User || password != Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		if _, ok := se.conn.TLSConnectionState(); !ok {
			return errors.New("AUTH before STARTTLS")
		}
		se.s.mu.Lock()
		se.s.starttls++
		se.s.mu.Unlock()
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.s.mu.Lock()
	refuse, stall := se.s.rcptErr, se.s.stall
	se.s.mu.Unlock()
	if stall != nil {
		<-stall
	}
	if refuse != nil {
		return refuse
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	se.s.mu.Lock()
	defer se.s.mu.Unlock()
	se.s.messages = append(se.s.messages, Message{From: se.from, To: append([]string(nil), se.to...), Data: b.Bytes()})
	close(se.s.arrived)
	se.s.arrived = make(chan struct{})
	return nil
}

func (se *session) Reset() { se.from, se.to = "", nil }

func (se *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("emailtest: key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "emailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("emailtest: certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("emailtest: parse certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
