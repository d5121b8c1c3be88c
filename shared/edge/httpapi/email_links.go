package httpapi

import (
	"errors"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// The pages behind the links of the e-mail channel, on user-commands (no bearer token: the code or
// token in the link is the proof). A GET only shows a page with a button (mail scanners fetch links;
// a GET never changes anything); the button POSTs.
//
//	GET  /email/verify?code=C        page with a "Confirm" button (400 page for a malformed code)
//	POST /email/verify               form field (or query parameter) code: confirms the address
//	GET  /email/unsubscribe?token=T  page with a "Turn off e-mail alerts" button
//	POST /email/unsubscribe          token in the query or the form: turns the e-mail channel off; also
//	                                 RFC 8058's one-click POST (body List-Unsubscribe=One-Click)
//
// Answers are small HTML pages in plain words: 200, 400 (a code or token that is malformed, unknown,
// used or expired: nothing changed), 413 (body too large), 500 (logged, never shown).
func (c *commands) emailRoutes(mux *http.ServeMux, e *edge) {
	mux.HandleFunc("GET /email/verify", c.emailVerifyPage)
	mux.Handle("POST /email/verify", e.limit.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.emailPOST(w, r, e, "code", func(v string) error {
			return c.deps.VerifyEmail.Handle(r.Context(), command.VerifyEmail{Code: v})
		}, "Address confirmed", "Your address is confirmed: alerts now also come by e-mail.")
	})))
	mux.HandleFunc("GET /email/unsubscribe", c.emailUnsubscribePage)
	mux.HandleFunc("POST /email/unsubscribe", func(w http.ResponseWriter, r *http.Request) {
		c.emailPOST(w, r, e, "token", func(v string) error {
			return c.deps.UnsubscribeEmail.Handle(r.Context(), command.UnsubscribeEmail{Token: v})
		}, "E-mail alerts off", "E-mail alerts are off. Your other channels still get alerts; turn e-mail on again from the bot (/channels) or the API.")
	})
}

var emailPage = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.Title}}</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 2em auto">
<h1 style="font-size: 1.3em">{{.Title}}</h1>
<p>{{.Text}}</p>
{{if .Action}}<form method="post" action="{{.Action}}"><input type="hidden" name="{{.Field}}" value="{{.Value}}"><button type="submit">{{.Button}}</button></form>
{{end}}</body></html>
`))

type emailPageData struct {
	Title, Text                  string
	Action, Field, Value, Button string
}

func writeEmailPage(w http.ResponseWriter, status int, d emailPageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // the link's code or token must not leak to another site
	h.Set("X-Frame-Options", "DENY")        // a one-button page must not be framed (clickjacking)
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = emailPage.Execute(w, d) // the status is sent; a failed write has nobody to tell
}

func (c *commands) emailVerifyPage(w http.ResponseWriter, r *http.Request) {
	code, ok := command.NormalizeVerificationCode(r.URL.Query().Get("code"))
	if !ok {
		writeEmailPage(w, http.StatusBadRequest, emailPageData{Title: "Link not valid",
			Text: "This confirmation link is not complete: open the link of the mail again, or send the bot /verify with the code of the mail."})
		return
	}
	writeEmailPage(w, http.StatusOK, emailPageData{Title: "Confirm your address",
		Text:   "Press the button to receive stock alerts at this address.",
		Action: "verify", Field: "code", Value: code, Button: "Confirm"})
}

func (c *commands) emailUnsubscribePage(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimSpace(r.URL.Query().Get("token"))
	if token == "" {
		writeEmailPage(w, http.StatusBadRequest, emailPageData{Title: "Link not valid",
			Text: "This unsubscribe link is not complete: use the link of a recent alert mail."})
		return
	}
	writeEmailPage(w, http.StatusOK, emailPageData{Title: "Stop e-mail alerts",
		Text:   "Press the button to stop receiving stock alerts by e-mail. Your other channels keep theirs.",
		Action: "unsubscribe", Field: "token", Value: token, Button: "Turn off e-mail alerts"})
}

// emailPOST reads field from the form (urlencoded or multipart, as RFC 8058 allows) or the query, runs
// do and answers with a page; this is where the pages' errors become answers.
func (c *commands) emailPOST(w http.ResponseWriter, r *http.Request, e *edge, field string, do func(string) error, title, text string) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		err = r.ParseMultipartForm(64 << 10) //nolint:gosec // the body is capped by MaxBytesReader above
	} else {
		err = r.ParseForm()
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeEmailPage(w, http.StatusRequestEntityTooLarge, emailPageData{Title: "Request too large", Text: "The request is too large."})
		return
	case err != nil:
		writeEmailPage(w, http.StatusBadRequest, emailPageData{Title: "Request not valid", Text: "The form could not be read: press the button of the page again."})
		return
	}
	err = do(r.FormValue(field))
	if v, invalid := stockalert.AsValidation(err); invalid {
		writeEmailPage(w, http.StatusBadRequest, emailPageData{Title: "Link not valid", Text: v.Reason})
		return
	}
	if err != nil {
		e.logger.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("route", r.Pattern), slog.String("err", err.Error()))
		writeEmailPage(w, http.StatusInternalServerError, emailPageData{Title: "Something went wrong",
			Text: "Something went wrong on our side; nothing was changed. Please try again in a few minutes."})
		return
	}
	writeEmailPage(w, http.StatusOK, emailPageData{Title: title, Text: text})
}

// writeTooManyVerifications answers stockalert.ErrTooManyVerifications (JSON endpoints).
func writeTooManyVerifications(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "3600")
	httpjson.WriteError(w, http.StatusTooManyRequests,
		"too many verification mails to this address in the last hour: try again later", "email")
}
