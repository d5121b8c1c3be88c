package emailtest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strings"
	"testing"
)

// Parts parses the message and returns its header and its parts by media type (text/plain,
// text/html), transfer-decoded, with CRLF turned into LF.
func (m Message) Parts(t testing.TB) (mail.Header, map[string]string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("emailtest: parse message: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("emailtest: Content-Type %q is not multipart (%v)", msg.Header.Get("Content-Type"), err)
	}
	got := map[string]string{}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return msg.Header, got
		}
		if err != nil {
			t.Fatalf("emailtest: read part: %v", err)
		}
		ct, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("emailtest: part Content-Type: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("emailtest: read part: %v", err)
		}
		got[ct] = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
}

var verifyCode = regexp.MustCompile(`/verify ([A-Z2-7]{10})\b`)

// VerificationCode returns the code a verification mail tells the reader to send the bot.
func (m Message) VerificationCode(t testing.TB) string {
	t.Helper()
	_, parts := m.Parts(t)
	sub := verifyCode.FindStringSubmatch(parts["text/plain"])
	if sub == nil {
		t.Fatalf("emailtest: no /verify code in %q", parts["text/plain"])
	}
	return sub[1]
}
