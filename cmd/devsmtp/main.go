// Command devsmtp is a development SMTP server for `make run`: it accepts every mail on a loopback port
// (no TLS, no AUTH) and prints it on standard output — envelope, subject, List-Unsubscribe and the
// plain-text part — so that the verification codes and the links of the e-mail channel can be read and
// followed. Point the functions at it with SMTP_URL='smtp://127.0.0.1:1025?tls=none'. It never
// relays a mail anywhere.
//
//	go run ./cmd/devsmtp [-addr 127.0.0.1:1025]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/emersion/go-smtp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:1025", "loopback address to listen on")
	flag.Parse()
	if err := run(*addr); err != nil {
		log.Fatalf("devsmtp: %v", err)
	}
}

func run(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q must be a loopback address: this server accepts mail from anyone who reaches it", addr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	var out sync.Mutex
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{print: func(s string) { out.Lock(); defer out.Unlock(); fmt.Print(s) }}, nil
	}))
	srv.Domain = "localhost"
	go func() {
		<-ctx.Done()
		_ = srv.Close()
		_ = l.Close()
	}()
	fmt.Printf("devsmtp: accepting mail on %s (SMTP_URL='smtp://%s?tls=none'); Ctrl-C stops\n", addr, addr)
	if err := srv.Serve(l); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

type session struct {
	print func(string)
	from  string
	to    []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = append(s.to, to); return nil }
func (s *session) Reset()                                      { s.from, s.to = "", nil }
func (s *session) Logout() error                               { return nil }

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n=== mail from %s to %s\n", s.from, strings.Join(s.to, ", "))
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		fmt.Fprintf(&b, "(unparsable: %v)\n%s\n", err, raw)
		s.print(b.String())
		return nil
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	fmt.Fprintf(&b, "Subject: %s\n", subject)
	if u := msg.Header.Get("List-Unsubscribe"); u != "" {
		fmt.Fprintf(&b, "List-Unsubscribe: %s\n", u)
	}
	b.WriteString("\n" + plainText(msg) + "\n")
	s.print(b.String())
	return nil
}

// plainText returns the text/plain part of msg (or its body when it is not multipart).
func plainText(msg *mail.Message) string {
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		body, _ := io.ReadAll(msg.Body)
		return string(body)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return "(no text/plain part)"
		}
		if err != nil {
			return fmt.Sprintf("(unreadable: %v)", err)
		}
		if ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct == "text/plain" {
			body, _ := io.ReadAll(p)
			return strings.ReplaceAll(string(body), "\r\n", "\n")
		}
	}
}
