// Package email is the e-mail channel: an SMTP sender (github.com/wneessen/go-mail) that delivers
// alerts (command.AlertChannel) and the mails that confirm an address (command.VerificationMailer).
//
// # Configuration
//
// The relay is one URL, the OpenFaaS secret smtp-url (else the SMTP_URL environment variable):
//
//	smtps://user:password@smtp.example.com:465   implicit TLS (RFC 8314), port 465 by default
//	smtp://user:password@smtp.example.com:587    STARTTLS required (the session fails without it), port 587 by default
//	smtp://127.0.0.1:1025?tls=none               no TLS and no AUTH: only for a relay on loopback (development)
//
// The user and password (percent-encoded in the URL) are sent with AUTH PLAIN, always over TLS. Without
// a URL the channel is off: Open logs so at INFO and Deliver returns stockalert.ErrChannelOff.
// Settings (Config): SMTP_FROM, the From address (required with a URL); SMTP_TIMEOUT, the bound on
// connecting and on each SMTP command (default 10s); SMTP_CA_FILE, a PEM file of the CA certificates
// (or the self-signed certificate) the relay's certificate is checked against instead of the system's
// roots (WithRootCAs takes precedence); PUBLIC_BASE_URL, the gateway's public address the
// links in the mails start with (…/function/user-commands/email/verify and …/unsubscribe).
//
// # Alert mails
//
// multipart/alternative: the plain text of shared/alertmessage and a simple HTML rendering of it
// (html/template escapes every value). The Subject is the alert's headline ("AAPL is above 200.00 USD").
// Each carries List-Unsubscribe: <PUBLIC_BASE_URL/function/user-commands/email/unsubscribe?token=…>
// and List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058), which turn the user's e-mail channel
// off. RFC 8058 requires a valid DKIM signature covering both headers: with the secret smtp-dkim-key
// (SMTP_DKIM_KEY; a PEM RSA or Ed25519 private key), SMTP_DKIM_DOMAIN and SMTP_DKIM_SELECTOR the sender
// signs every mail itself (github.com/emersion/go-msgauth/dkim, relaxed/relaxed, covering From, To,
// Subject, Date, Message-ID, MIME headers and both List-Unsubscribe headers); without a key the relay
// must sign them (most providers do for the domain of SMTP_FROM).
//
// # Errors
//
// Deliver follows command.AlertChannel: a permanent refusal (5xx) of the recipient (RCPT TO) or of the
// message (end of DATA) wraps stockalert.ErrUndeliverable, with the user's reason (command.UserReason:
// "the mail server refused the address", "… the message"); 4xx answers, timeouts, connection, TLS and
// authentication failures are transient (plain errors), so the alert is delivered again later.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Config is the channel's environment (the smtp-url and smtp-dkim-key secrets are passed to Open).
type Config struct {
	// From is the From address of every mail (SMTP_FROM), e.g. "Stock alerts <alerts@example.com>".
	From string `env:"SMTP_FROM"`
	// Timeout bounds connecting and each SMTP command (SMTP_TIMEOUT).
	Timeout time.Duration `env:"SMTP_TIMEOUT" envDefault:"10s"`
	// DKIMDomain and DKIMSelector name the DKIM key (SMTP_DKIM_DOMAIN, SMTP_DKIM_SELECTOR; the public
	// key is published at <selector>._domainkey.<domain>); used only with the smtp-dkim-key secret.
	DKIMDomain   string `env:"SMTP_DKIM_DOMAIN"`
	DKIMSelector string `env:"SMTP_DKIM_SELECTOR"`
	// PublicBaseURL is the gateway's public address (PUBLIC_BASE_URL), e.g. https://alerts.example.com;
	// the links in the mails are PublicBaseURL + "/function/user-commands/email/…".
	PublicBaseURL string `env:"PUBLIC_BASE_URL"`
	// CAFile is a PEM file of the certificates the relay's must chain to (SMTP_CA_FILE), trusted instead
	// of the system's roots: a relay with a private CA or a self-signed certificate. Empty: the system's.
	CAFile string `env:"SMTP_CA_FILE"`
}

// Secrets are the channel's secrets: the relay's URL (smtp-url) and the DKIM private key in PEM
// (smtp-dkim-key). Both optional.
type Secrets struct {
	URL     string
	DKIMKey string
}

// Option changes how Open connects.
type Option func(*Sender)

// WithRootCAs makes the sender trust roots (a private CA, or a test server's certificate) instead of
// the system's.
func WithRootCAs(roots *x509.CertPool) Option { return func(s *Sender) { s.roots = roots } }

// Sender sends mails through the configured relay; its zero configuration (no URL) is off.
type Sender struct {
	on       bool
	host     string
	port     int
	implicit bool // smtps: TLS from the first byte
	noTLS    bool // tls=none on loopback
	user     string
	password string
	from     string
	timeout  time.Duration
	base     string
	roots    *x509.CertPool
	dkim     *dkimSigner
}

// Open returns the sender for cfg and sec. Without sec.URL the channel is off (logged at INFO).
// Errors: a malformed URL or base URL, a missing SMTP_FROM, a non-positive timeout, a bad DKIM key
// or a DKIM key without its domain and selector.
func Open(cfg Config, sec Secrets, logger *slog.Logger, opts ...Option) (*Sender, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Sender{}
	for _, o := range opts {
		o(s)
	}
	if strings.TrimSpace(sec.URL) == "" {
		logger.Info("e-mail channel off: no SMTP relay (secret smtp-url or SMTP_URL); alerts go to the other channels")
		return s, nil
	}
	if err := s.parseURL(strings.TrimSpace(sec.URL)); err != nil {
		return nil, err
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("SMTP_FROM %q is not an address: %w", cfg.From, err)
	}
	s.from = from.String()
	if cfg.Timeout <= 0 {
		return nil, fmt.Errorf("SMTP_TIMEOUT must be positive, got %s", cfg.Timeout)
	}
	s.timeout = cfg.Timeout
	if cfg.CAFile != "" && s.roots == nil {
		if s.roots, err = readRoots(cfg.CAFile); err != nil {
			return nil, err
		}
	}
	base, err := url.Parse(strings.TrimRight(strings.TrimSpace(cfg.PublicBaseURL), "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("PUBLIC_BASE_URL %q must be the gateway's http(s) address, needed for the links in mails", cfg.PublicBaseURL)
	}
	s.base = base.String()
	if strings.TrimSpace(sec.DKIMKey) != "" {
		if s.dkim, err = newDKIMSigner(sec.DKIMKey, cfg.DKIMDomain, cfg.DKIMSelector); err != nil {
			return nil, err
		}
	}
	s.on = true
	logger.Info("e-mail channel on", "relay", net.JoinHostPort(s.host, strconv.Itoa(s.port)),
		"implicit_tls", s.implicit, "dkim", s.dkim != nil)
	return s, nil
}

func (s *Sender) parseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("smtp-url is not a URL (smtps://user:password@host:465 or smtp://user:password@host:587)")
	}
	switch u.Scheme {
	case "smtps":
		s.implicit, s.port = true, 465
	case "smtp":
		s.port = 587
	default:
		return fmt.Errorf("smtp-url scheme %q: use smtps:// (implicit TLS) or smtp:// (STARTTLS)", u.Scheme)
	}
	s.host = u.Hostname()
	if s.host == "" {
		return errors.New("smtp-url has no host")
	}
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil || s.port < 1 || s.port > 65535 {
			return fmt.Errorf("smtp-url port %q is not a port", p)
		}
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.password, _ = u.User.Password()
	}
	switch tlsMode := u.Query().Get("tls"); tlsMode {
	case "":
	case "none":
		ip := net.ParseIP(s.host)
		if s.implicit || ((ip == nil || !ip.IsLoopback()) && s.host != "localhost") {
			return errors.New("smtp-url tls=none is allowed only with smtp:// on a loopback host (a development relay)")
		}
		if s.user != "" {
			return errors.New("smtp-url tls=none cannot carry a user and password (they would cross in clear)")
		}
		s.noTLS = true
	default:
		return fmt.Errorf("smtp-url tls=%q: the only value is none", tlsMode)
	}
	return nil
}

// readRoots reads the PEM certificates of SMTP_CA_FILE.
func readRoots(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path) //nolint:gosec // the operator's setting names the file
	if err != nil {
		return nil, fmt.Errorf("SMTP_CA_FILE: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("SMTP_CA_FILE %s holds no PEM certificate", path)
	}
	return roots, nil
}

// On reports whether a relay is configured.
func (s *Sender) On() bool { return s.on }

// Channel is stockalert.ChannelEmail.
func (s *Sender) Channel() stockalert.Channel { return stockalert.ChannelEmail }

// Deliver mails the alert to the user's confirmed address (d.Settings.Target, else the account's).
// Errors: see the package doc; an address not confirmed, or without its unsubscribe secret, is
// stockalert.ErrUndeliverable (no mail but the verification goes to an unconfirmed address).
func (s *Sender) Deliver(ctx context.Context, d command.ChannelDelivery) error {
	if !s.on {
		return fmt.Errorf("e-mail alert: %w", stockalert.ErrChannelOff)
	}
	to := d.Settings.Target
	if to == "" {
		to = string(d.User.Email)
	}
	if !d.Settings.Verified || d.Settings.Secret == "" {
		return fmt.Errorf("e-mail alert to %s: address not confirmed: %w", to, stockalert.ErrUndeliverable)
	}
	unsubscribe := s.link("unsubscribe", "token", command.EmailUnsubscribeToken(d.User.ID, d.Settings.Secret))
	m, err := s.alertMessage(d, to, unsubscribe)
	if err != nil {
		return err
	}
	return s.send(ctx, m, "e-mail alert "+d.Alert.EventID+" to "+to)
}

// SendVerification mails to the code that confirms the address, with the link to the page that
// confirms it (GET shows a button, the button POSTs) and the code to send the bot (/verify <code>).
// Errors: stockalert.ErrChannelOff without a relay; the SMTP errors of the package doc.
func (s *Sender) SendVerification(ctx context.Context, to stockalert.Email, code string, expires time.Duration) error {
	if !s.on {
		return fmt.Errorf("verification mail: %w", stockalert.ErrChannelOff)
	}
	m, err := s.verificationMessage(string(to), code, s.link("verify", "code", code), expires)
	if err != nil {
		return err
	}
	return s.send(ctx, m, "verification mail to "+string(to))
}

// link is PublicBaseURL/function/user-commands/email/<page>?<key>=<value>.
func (s *Sender) link(page, key, value string) string {
	return s.base + "/function/user-commands/email/" + page + "?" + url.Values{key: {value}}.Encode()
}

// send signs m when a DKIM key is configured and sends it in one SMTP session.
func (s *Sender) send(ctx context.Context, m *gomail.Msg, what string) error {
	if s.dkim != nil {
		if err := s.dkim.sign(m); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	c, err := s.client()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*s.timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return classify(what, err)
	}
	return nil
}

func (s *Sender) client() (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(s.port), gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: s.host, RootCAs: s.roots, MinVersion: tls.VersionTLS12}),
	}
	switch {
	case s.noTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case s.implicit:
		opts = append(opts, gomail.WithSSL())
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(s.user), gomail.WithPassword(s.password))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	return c, nil
}

// classify maps a send error to the port's contract: 5xx on RCPT TO or at the end of DATA is
// undeliverable (with a reason for the user's alert history, command.UserReason); everything else is
// transient.
func classify(what string, err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 &&
		(se.Reason == gomail.ErrSMTPRcptTo || se.Reason == gomail.ErrSMTPDataClose) {
		reason := "the mail server refused the address"
		if se.Reason == gomail.ErrSMTPDataClose {
			reason = "the mail server refused the message"
		}
		return refusal{err: fmt.Errorf("%s: refused (%d): %w: %w", what, se.ErrorCode(), stockalert.ErrUndeliverable, err), reason: reason}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// refusal is a permanent SMTP refusal: the error chain for the log, and the reason in plain words for
// the user's alert history (command.UserReason).
type refusal struct {
	err    error
	reason string
}

func (r refusal) Error() string      { return r.err.Error() }
func (r refusal) Unwrap() error      { return r.err }
func (r refusal) UserReason() string { return r.reason }

var _ command.UserReason = refusal{}

// writeTo renders m as sent.
func writeTo(m *gomail.Msg) ([]byte, error) {
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("render mail: %w", err)
	}
	return b.Bytes(), nil
}

// SecretReader reads an optional secret: the OpenFaaS secret file name, else the environment variable
// env (*faas.Secrets implements it).
type SecretReader interface {
	Optional(name, env string) (value string, ok bool, err error)
}

// OpenFromSecrets is Open with the secrets read from secrets: smtp-url (else SMTP_URL) and
// smtp-dkim-key (else SMTP_DKIM_KEY). Errors: an unreadable secret, and Open's.
func OpenFromSecrets(cfg Config, secrets SecretReader, logger *slog.Logger, opts ...Option) (*Sender, error) {
	var sec Secrets
	var err error
	if sec.URL, _, err = secrets.Optional("smtp-url", "SMTP_URL"); err != nil {
		return nil, err
	}
	if sec.DKIMKey, _, err = secrets.Optional("smtp-dkim-key", "SMTP_DKIM_KEY"); err != nil {
		return nil, err
	}
	return Open(cfg, sec, logger, opts...)
}
