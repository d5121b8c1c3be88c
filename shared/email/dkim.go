package email

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
	gomail "github.com/wneessen/go-mail"
)

// signedHeaders are the header fields the DKIM signature covers; RFC 8058 section 4 requires
// List-Unsubscribe and List-Unsubscribe-Post among them.
var signedHeaders = []string{
	"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
	"List-Unsubscribe", "List-Unsubscribe-Post",
}

type dkimSigner struct{ opts *dkim.SignOptions }

// newDKIMSigner parses a PEM private key (PKCS #8, or PKCS #1 RSA) for domain and selector.
func newDKIMSigner(pemKey, domain, selector string) (*dkimSigner, error) {
	if domain == "" || selector == "" {
		return nil, errors.New("smtp-dkim-key needs SMTP_DKIM_DOMAIN and SMTP_DKIM_SELECTOR")
	}
	block, _ := pem.Decode([]byte(pemKey))
	if block == nil {
		return nil, errors.New("smtp-dkim-key is not a PEM private key")
	}
	var key any
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		if key, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return nil, errors.New("smtp-dkim-key is neither a PKCS #8 nor a PKCS #1 RSA private key")
		}
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("smtp-dkim-key: %T cannot sign", key)
	}
	opts := &dkim.SignOptions{
		Domain: domain, Selector: selector, Signer: signer, Hash: crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		HeaderKeys: signedHeaders,
	}
	// Sign an empty message once: a key the library cannot use shows at start, not at the first alert.
	if err := dkim.Sign(io.Discard, strings.NewReader("From: a@example.com\r\n\r\n"), opts); err != nil {
		return nil, fmt.Errorf("smtp-dkim-key: %w", err)
	}
	return &dkimSigner{opts: opts}, nil
}

// sign renders m, signs the rendering and adds the DKIM-Signature field to m. go-mail renders a
// message the same way every time once its boundaries, Date and Message-ID are set, so the mail sent
// is the one signed.
func (d *dkimSigner) sign(m *gomail.Msg) error {
	raw, err := writeTo(m)
	if err != nil {
		return err
	}
	var signed bytes.Buffer
	if err := dkim.Sign(&signed, bytes.NewReader(raw), d.opts); err != nil {
		return fmt.Errorf("DKIM sign: %w", err)
	}
	h, err := textproto.NewReader(bufio.NewReader(&signed)).ReadMIMEHeader()
	if err != nil {
		return fmt.Errorf("DKIM sign: read the signed header: %w", err)
	}
	sig := h.Get("DKIM-Signature")
	if sig == "" {
		return errors.New("DKIM sign: no signature produced")
	}
	m.SetGenHeaderPreformatted("DKIM-Signature", sig)
	return nil
}
