package email

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/stockalert/stockalert/shared/alertmessage"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// The headers of RFC 8058 one-click unsubscription.
const (
	headerListUnsubscribe     gomail.Header = "List-Unsubscribe"
	headerListUnsubscribePost gomail.Header = "List-Unsubscribe-Post"
	oneClick                                = "List-Unsubscribe=One-Click"
)

var page = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html><body style="font-family: sans-serif; line-height: 1.4">
{{range .Lines}}<p style="margin: 0 0 0.5em 0">{{.}}</p>
{{end}}{{if .Link}}<p><a href="{{.Link}}">{{.LinkText}}</a></p>
{{end}}{{if .Footer}}<p style="color: #666; font-size: small">{{.Footer}}{{if .FooterLink}} <a href="{{.FooterLink}}">{{.FooterLinkText}}</a>{{end}}</p>
{{end}}</body></html>
`))

type pageData struct {
	Lines                      []string
	Link, LinkText             string
	Footer                     string
	FooterLink, FooterLinkText string
}

func renderHTML(d pageData) (string, error) {
	var b bytes.Buffer
	if err := page.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render mail HTML: %w", err)
	}
	return b.String(), nil
}

// Subject is the mail subject of an alert: its headline without the bell ("AAPL is above 200.00 USD").
func Subject(ev stockalert.AlertEvent) string {
	if ev.Condition == stockalert.SymbolDropped {
		return fmt.Sprintf("%s was removed from your watch list", ev.Ticker)
	}
	first, _, _ := strings.Cut(alertmessage.Text(ev, time.UTC), "\n")
	return strings.TrimSpace(strings.TrimPrefix(first, "🔔"))
}

func (s *Sender) newMsg(to, subject string) (*gomail.Msg, error) {
	m := gomail.NewMsg()
	if err := m.From(s.from); err != nil {
		return nil, fmt.Errorf("mail from %s: %w", s.from, err)
	}
	if err := m.To(to); err != nil {
		return nil, fmt.Errorf("mail to %q: %w: %w", to, stockalert.ErrUndeliverable, err)
	}
	m.Subject(subject)
	m.SetDate()
	m.SetMessageID()
	return m, nil
}

func (s *Sender) alertMessage(d command.ChannelDelivery, to, unsubscribe string) (*gomail.Msg, error) {
	loc := d.Location
	if loc == nil {
		loc = d.User.Location()
	}
	subject := Subject(d.Alert)
	m, err := s.newMsg(to, subject)
	if err != nil {
		return nil, err
	}
	text := alertmessage.Text(d.Alert, loc)
	footer := "You get this mail because you turned e-mail alerts on."
	html, err := renderHTML(pageData{Lines: strings.Split(text, "\n"), Footer: footer,
		FooterLink: unsubscribe, FooterLinkText: "Stop e-mail alerts"})
	if err != nil {
		return nil, err
	}
	m.SetBodyString(gomail.TypeTextPlain, text+"\n\n-- \n"+footer+"\nStop e-mail alerts: "+unsubscribe+"\n")
	m.AddAlternativeString(gomail.TypeTextHTML, html)
	m.SetGenHeaderPreformatted(headerListUnsubscribe, "<"+unsubscribe+">")
	m.SetGenHeaderPreformatted(headerListUnsubscribePost, oneClick)
	return m, nil
}

func (s *Sender) verificationMessage(to, code, link string, expires time.Duration) (*gomail.Msg, error) {
	m, err := s.newMsg(to, "Confirm your address for stock alerts")
	if err != nil {
		return nil, err
	}
	valid := expires.Round(time.Minute).String()
	valid = strings.TrimSuffix(strings.TrimSuffix(valid, "0s"), "0m")
	lines := []string{
		"Someone (we hope you) asked for stock alerts at this address.",
		"To confirm it, open the link below and press the button, or send the bot: /verify " + code,
		"The code is valid for " + valid + ". If you did not ask, ignore this mail: nothing will be sent to you.",
	}
	html, err := renderHTML(pageData{Lines: lines, Link: link, LinkText: "Confirm this address"})
	if err != nil {
		return nil, err
	}
	m.SetBodyString(gomail.TypeTextPlain, strings.Join(lines[:2], "\n")+"\n\n"+link+"\n\n"+lines[2]+"\n")
	m.AddAlternativeString(gomail.TypeTextHTML, html)
	return m, nil
}
