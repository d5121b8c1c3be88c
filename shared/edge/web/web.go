// Package web is the web dashboard's edge: server-rendered pages (html/template, no JavaScript) over
// the same use cases as the HTTP API and the chat. A user signs in with the one-time link the bot's
// /web sends: GET /login shows a button (link scanners only GET), POST /login exchanges the code for a
// session cookie (HttpOnly, SameSite=Lax, Secure over https). Every form carries a CSRF token tied to
// the session, compared in constant time. Links are relative, so the app works behind the gateway's
// /function/dashboard/ prefix. Errors are mapped to statuses in one place (fail).
package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// SessionCookie is the name of the dashboard's session cookie.
const SessionCookie = "dashboard_session"

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"ruleID":    stockalert.RuleIDString,
	"condition": condition,
	"fieldIs": func(v *stockalert.ValidationError, field string) bool {
		return v != nil && v.Field == field
	},
}).ParseFS(templateFS, "templates/*.html"))

// condition says in words when a rule fires, in the quote's own unit.
func condition(r stockalert.Rule) string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	switch r.Kind {
	case stockalert.KindAbove:
		return "above " + f(r.Level)
	case stockalert.KindBelow:
		return "below " + f(r.Level)
	case stockalert.KindRange:
		var parts []string
		if r.Thresholds.Low != nil {
			parts = append(parts, "below "+f(*r.Thresholds.Low))
		}
		if r.Thresholds.High != nil {
			parts = append(parts, "above "+f(*r.Thresholds.High))
		}
		return strings.Join(parts, " or ")
	case stockalert.KindChangePct:
		return "day change of " + f(r.Percent) + "% " + string(r.Direction)
	case stockalert.KindMovePct:
		return "move of " + f(r.Percent) + "% from " + f(r.Reference) + " " + string(r.Direction)
	}
	return string(r.Kind)
}

// Dashboard holds the use cases the pages run.
type Dashboard struct {
	WebSession   query.WebSessionHandler
	StartSession command.StartWebSessionHandler
	EndSession   command.EndWebSessionHandler
	// SessionTTL is how long a sign-in lasts (command.WebSessionTTL when zero).
	SessionTTL    time.Duration
	Rules         query.RulesHandler
	LatestPrices  query.LatestPricesHandler
	AlertHistory  query.AlertHistoryHandler
	ChannelStates query.ChannelStatesHandler
	CreateRule    command.CreateRuleHandler
	DeleteRule    command.DeleteRuleHandler
	// Chart draws a ticker's chart for the user (the img of each ticker).
	Chart  query.ChartHandler
	Logger *slog.Logger
}

// New returns the dashboard's handler: GET / (the overview), GET and POST /login, POST /logout,
// POST /rules (add), POST /delete (delete a rule), GET /chart?ticker= (a PNG), GET /favicon.ico (the
// pages link it relatively, so it is found behind the gateway's prefix too). A cross-origin POST
// (see sameOrigin) is answered 403 with an error page and changes nothing.
func New(d Dashboard) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.SessionTTL <= 0 {
		d.SessionTTL = command.WebSessionTTL
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.signedIn(d.overview))
	mux.HandleFunc("GET /login", d.loginPage)
	mux.HandleFunc("POST /login", d.login)
	mux.HandleFunc("POST /logout", d.signedIn(d.logout))
	mux.HandleFunc("POST /rules", d.signedIn(d.addRule))
	mux.HandleFunc("POST /delete", d.signedIn(d.deleteRule))
	mux.HandleFunc("GET /chart", d.signedIn(d.chart))
	mux.HandleFunc("GET /favicon.ico", favicon)
	return d.sameOrigin(mux)
}

// sameOrigin refuses a cross-origin POST before any handler runs, with a 403 page
// (http.CrossOriginProtection: the browser's Sec-Fetch-Site, else Origin against the host). The CSRF
// token guards the signed-in forms; this guards POST /login too, which has none: another site must not
// sign a visitor in to its own account. Behind the OpenFaaS gateway the request's Host is the
// function's own address and the browser's is in X-Forwarded-Host (set by the gateway's proxy; a
// cross-site form cannot set it), so Origin is compared with that one.
func (d Dashboard) sameOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checked := r
		if fh, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Host"), ","); strings.TrimSpace(fh) != "" {
			c := *r
			c.Host = strings.TrimSpace(fh)
			checked = &c
		}
		if err := cop.Check(checked); err != nil {
			d.render(w, http.StatusForbidden, "error.html", map[string]any{
				"Message": "This form came from another site. Open the dashboard's own page and try again."})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// session is the signed-in user of a request.
type session struct {
	email stockalert.Email
	csrf  string
	id    string
}

// csrfToken is the session's form token: SHA-256 of a label and the session id, which only the
// cookie holds (the store keeps only the id's hash, a different value).
func csrfToken(sessionID string) string {
	sum := sha256.Sum256([]byte("dashboard csrf\x00" + sessionID))
	return hex.EncodeToString(sum[:])
}

type pageHandler func(w http.ResponseWriter, r *http.Request, s session)

// signedIn runs next for a request with a valid session and, for a POST, a valid CSRF token; without
// a session it answers 401 with the sign-in page, with a bad token 403.
func (d Dashboard) signedIn(next pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(SessionCookie)
		if err != nil || c.Value == "" {
			d.render(w, http.StatusUnauthorized, "signin.html", map[string]any{})
			return
		}
		email, err := d.WebSession.Handle(r.Context(), query.WebSession{SessionHash: command.WebSecretHash(c.Value)})
		if errors.Is(err, stockalert.ErrNotFound) {
			d.render(w, http.StatusUnauthorized, "signin.html", map[string]any{"Error": "Your session has ended: send /web to the bot to sign in again."})
			return
		}
		if err != nil {
			d.fail(w, r, err)
			return
		}
		s := session{email: email, csrf: csrfToken(c.Value), id: c.Value}
		if r.Method == http.MethodPost {
			got := r.PostFormValue("csrf")
			if subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) != 1 {
				d.render(w, http.StatusForbidden, "error.html", map[string]any{
					"Message": "This form has expired or did not come from this page. Go back, reload and try again."})
				return
			}
		}
		next(w, r, s)
	}
}

func (d Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	if code == "" {
		d.render(w, http.StatusBadRequest, "signin.html", map[string]any{"Error": "This link has no code: send /web to the bot for a new one."})
		return
	}
	d.render(w, http.StatusOK, "login.html", map[string]any{"Code": code})
}

func (d Dashboard) login(w http.ResponseWriter, r *http.Request) {
	code := r.PostFormValue("code")
	id, err := newSessionID()
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if code == "" {
		d.fail(w, r, stockalert.Invalid("code", "is required: send /web to the bot for a sign-in link"))
		return
	}
	err = d.StartSession.Handle(r.Context(), command.StartWebSession{CodeHash: command.WebSecretHash(code), SessionHash: command.WebSecretHash(id), TTL: d.SessionTTL})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	// Secure only over https (TLS or X-Forwarded-Proto), so that `make run` works on plain http.
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: Secure is set exactly when served over https
		Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: overHTTPS(r), MaxAge: int(d.SessionTTL.Seconds()),
	})
	seeOther(w, "./")
}

func (d Dashboard) logout(w http.ResponseWriter, r *http.Request, s session) {
	if err := d.EndSession.Handle(r.Context(), command.EndWebSession{SessionHash: command.WebSecretHash(s.id)}); err != nil {
		d.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", //nolint:gosec // G124: as in login
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: overHTTPS(r), MaxAge: -1})
	d.render(w, http.StatusOK, "signin.html", map[string]any{"Notice": "You are signed out."})
}

// ruleForm is what the add form holds, shown again with its errors.
type ruleForm struct {
	Ticker, Kind, Level, High, Low, Note string
}

func (d Dashboard) overview(w http.ResponseWriter, r *http.Request, s session) {
	d.showOverview(w, r, s, http.StatusOK, ruleForm{Kind: string(stockalert.KindAbove)}, nil)
}

func (d Dashboard) showOverview(w http.ResponseWriter, r *http.Request, s session, status int, form ruleForm, formErr *stockalert.ValidationError) {
	ctx := r.Context()
	rules, err := d.Rules.Handle(ctx, query.Rules{Email: string(s.email)})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	prices, err := d.LatestPrices.Handle(ctx, query.LatestPrices{Email: string(s.email)})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	history, err := d.AlertHistory.Handle(ctx, query.AlertHistory{Email: string(s.email), Limit: "20"})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	channels, err := d.ChannelStates.Handle(ctx, query.ChannelStates{Email: string(s.email)})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	var tickers []stockalert.Ticker
	seen := map[stockalert.Ticker]bool{}
	for _, rv := range rules {
		if !seen[rv.Rule.Ticker] {
			seen[rv.Rule.Ticker] = true
			tickers = append(tickers, rv.Rule.Ticker)
		}
	}
	d.render(w, status, "overview.html", map[string]any{
		"Email": s.email, "CSRF": s.csrf, "Rules": rules, "Prices": prices, "History": history,
		"Channels": channels, "Tickers": tickers, "Form": form, "FormError": formErr,
	})
}

func (d Dashboard) addRule(w http.ResponseWriter, r *http.Request, s session) {
	form := ruleForm{
		Ticker: strings.TrimSpace(r.PostFormValue("ticker")), Kind: r.PostFormValue("kind"),
		Level: strings.TrimSpace(r.PostFormValue("level")), High: strings.TrimSpace(r.PostFormValue("high_value")),
		Low: strings.TrimSpace(r.PostFormValue("low_value")), Note: r.PostFormValue("note"),
	}
	rule, err := form.rule()
	if err == nil {
		err = d.CreateRule.Handle(r.Context(), command.CreateRule{Email: string(s.email), Rule: rule})
	}
	if v, ok := stockalert.AsValidation(err); ok {
		d.showOverview(w, r, s, http.StatusBadRequest, form, v)
		return
	}
	var conflict *stockalert.ConflictError
	if errors.As(err, &conflict) {
		d.showOverview(w, r, s, http.StatusConflict, form, &stockalert.ValidationError{Field: conflict.Field, Reason: conflict.Reason})
		return
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	seeOther(w, "./")
}

// rule reads the form's fields as the API's: numbers must parse, the kind decides which apply.
func (f ruleForm) rule() (stockalert.Rule, error) {
	r := stockalert.Rule{Ticker: stockalert.Ticker(f.Ticker), Kind: stockalert.RuleKind(f.Kind), Note: f.Note}
	num := func(field, v string) (*float64, error) {
		if v == "" {
			return nil, nil //nolint:nilnil // an empty field is no value, not an error
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, stockalert.Invalid(field, "must be a number, like 182.5")
		}
		return &x, nil
	}
	switch r.Kind {
	case stockalert.KindAbove, stockalert.KindBelow:
		l, err := num("level", f.Level)
		if err != nil {
			return r, err
		}
		if l == nil {
			return r, stockalert.Invalid("level", "is required for %s", r.Kind)
		}
		r.Level = *l
	case stockalert.KindRange:
		var err error
		if r.Thresholds.High, err = num("high_value", f.High); err != nil {
			return r, err
		}
		if r.Thresholds.Low, err = num("low_value", f.Low); err != nil {
			return r, err
		}
	default:
		return r, stockalert.Invalid("kind", "choose above, below or range")
	}
	return r, nil
}

func (d Dashboard) deleteRule(w http.ResponseWriter, r *http.Request, s session) {
	err := d.DeleteRule.Handle(r.Context(), command.DeleteRule{Email: string(s.email), RuleID: r.PostFormValue("id")})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	seeOther(w, "./")
}

// chart serves the ticker's chart for the signed-in user (query.Chart: the same picture as /chart in
// the chat and GET …/chart on stock-queries), over range (1d when absent).
func (d Dashboard) chart(w http.ResponseWriter, r *http.Request, s session) {
	rng := r.URL.Query().Get("range")
	if rng == "" {
		rng = "1d"
	}
	img, err := d.Chart.Handle(r.Context(), query.Chart{Email: string(s.email), Ticker: r.URL.Query().Get("ticker"), Range: rng})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=60")
	_, _ = w.Write(img.PNG)
}

// fail is the one place errors become statuses and pages: a validation error is a 400 naming the
// field, not found 404 (an unknown session is a 401 sign-in page, in signedIn); anything else is logged and answered
// 500 without its chain.
func (d Dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	if v, ok := stockalert.AsValidation(err); ok {
		d.render(w, http.StatusBadRequest, "error.html", map[string]any{"Field": v.Field, "Message": v.Reason})
		return
	}
	if errors.Is(err, stockalert.ErrNotFound) {
		d.render(w, http.StatusNotFound, "error.html", map[string]any{"Message": notFoundText(err)})
		return
	}
	if errors.Is(err, query.ErrHistoryUnavailable) {
		w.Header().Set("Retry-After", "60")
		d.render(w, http.StatusServiceUnavailable, "error.html", map[string]any{"Message": "Prices are unavailable right now: the quote source cannot be reached. Try again in a minute."})
		return
	}
	d.Logger.ErrorContext(r.Context(), "dashboard request failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	d.render(w, http.StatusInternalServerError, "error.html", map[string]any{"Message": "Something went wrong on our side. Try again in a moment."})
}

func notFoundText(err error) string {
	var nf *stockalert.NotFoundError
	if errors.As(err, &nf) {
		return nf.Reason
	}
	return "Not found."
}

func (d Dashboard) render(w http.ResponseWriter, status int, name string, data map[string]any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		d.Logger.Error("render dashboard page", slog.String("page", name), slog.Any("error", err))
	}
}

func seeOther(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusSeeOther)
}

// overHTTPS: the request came over TLS, directly or through a proxy that says so (X-Forwarded-Proto).
func overHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func newSessionID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
