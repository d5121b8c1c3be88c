// Package httpapi is the HTTP edge of stockalert: the JSON API of the user-commands function (the write
// side: register, update, subscribe, unsubscribe, delete, issue a Telegram link code, add and remove
// alert rules) and of the stock-queries function (the read side: profile, latest price, average price,
// alert rules, alert history).
//
// Each endpoint lives in its own file and turns a request into a command or a query of the shared
// library; errors.go maps every error to a status and a {"error","field"} body, in one place. Every
// route under /users/{email} needs "Authorization: Bearer <token>", checked once per route before
// anything else is read, so a refused caller learns nothing about the account. POST /users, PATCH
// /users/{email} and POST /users/{email}/alerts honour an Idempotency-Key header: the command and its response run at most once per
// key (see OnceRunner).
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// OnceRunner runs a request's work at most once per idempotency claim (*sqlstore.Store implements it).
// fn's writes and the stored result commit together; a repeat of the claim returns the first result
// with replayed=true, a repeat with a different fingerprint stockalert.ErrIdempotencyKeyReused, and two
// concurrent holders of one claim never both run fn. owner is the user the record is deleted with.
type OnceRunner interface {
	RunOnce(ctx context.Context, claim stockalert.IdempotencyClaim, owner stockalert.Email,
		fn func(ctx context.Context) ([]byte, error)) (result []byte, replayed bool, err error)
}

// UserCommands are the dependencies of the write side. Every handler and Once is required.
type UserCommands struct {
	RegisterUser  command.RegisterUserHandler
	UpdateUser    command.UpdateUserHandler
	Subscribe     command.SubscribeHandler
	Unsubscribe   command.UnsubscribeHandler
	DeleteUser    command.DeleteUserHandler
	IssueLinkCode command.IssueLinkCodeHandler
	CreateRule    command.CreateRuleHandler
	DeleteRule    command.DeleteRuleHandler
	EnableChannel command.EnableChannelHandler

	Authenticate query.AuthenticateHandler
	UserProfile  query.UserProfileHandler

	// VerifyEmail and UnsubscribeEmail serve the pages behind the e-mail channel's links (/email/verify,
	// /email/unsubscribe; see emailRoutes); without both those routes are absent.
	VerifyEmail      command.VerifyEmailHandler
	UnsubscribeEmail command.UnsubscribeEmailHandler

	// Once makes POST /users, PATCH /users/{email} and POST /users/{email}/alerts at-most-once under
	// an Idempotency-Key.
	Once OnceRunner

	// RegisterWebhook and DeleteWebhook serve PUT and DELETE /users/{email}/webhook; without both, those
	// routes are not served. AllowHTTPLoopbackWebhooks accepts http:// webhook URLs on a loopback host
	// (WEBHOOK_ALLOW_HTTP_LOOPBACK, development).
	RegisterWebhook           command.RegisterWebhookHandler
	DeleteWebhook             command.DeleteWebhookHandler
	AllowHTTPLoopbackWebhooks bool

	// BotUsername is the Telegram bot's username (with or without the "@"). When set, the link code
	// comes with a https://t.me/<bot>?start=<code> link that opens the bot and links the chat.
	BotUsername string
	// RefuseChatID makes POST /users refuse telegram_chat_id (400): a chat given there is linked without
	// proof that the caller owns it, while /start <code> proves it. Operators who do not need the
	// original API's field should set it.
	RefuseChatID bool
	// MaxBodyBytes caps a request body (faas.DefaultMaxBodyBytes when 0); pass the function's
	// max_body_bytes.
	MaxBodyBytes int64
	// Limiter limits the unauthenticated writes (POST /users) per client address; nil: no limit.
	Limiter *ClientLimiter
	// Logger receives the errors answered with 500 (nil: discarded).
	Logger *slog.Logger
}

// StockQueries are the dependencies of the read side. Every handler is required.
type StockQueries struct {
	Authenticate  query.AuthenticateHandler
	UserProfile   query.UserProfileHandler
	LatestPrice   query.LatestPriceHandler
	LatestPrices  query.LatestPricesHandler
	AveragePrice  query.AveragePriceHandler
	Rules         query.RulesHandler
	AlertHistory  query.AlertHistoryHandler
	ChannelStates query.ChannelStatesHandler
	Chart         query.ChartHandler

	// Logger receives the errors answered with 500 (nil: discarded).
	Logger *slog.Logger
}

// NewUserCommands returns the handler of the user-commands function:
//
//	POST   /users                           register (201, with the token shown once); 429 past
//	                                        the Limiter's rate for the client address
//	PATCH  /users/{email}                   change the ticker or thresholds of a one-ticker user
//	PUT    /users/{email}/tickers/{ticker}  watch a ticker with exactly these thresholds
//	DELETE /users/{email}/tickers/{ticker}  stop watching a ticker (204)
//	DELETE /users/{email}                   delete the user and all their data (204)
//	POST   /users/{email}/telegram-link     issue a new one-time Telegram link code
//	POST   /users/{email}/alerts            add an alert rule (201 with the rule); shares the Limiter
//	DELETE /users/{email}/alerts/{id}       remove an alert rule (204)
//	PUT    /users/{email}/webhook           register the webhook {"url"}: 200 {"url","secret"}, the
//	                                        signing secret shown once
//	DELETE /users/{email}/webhook           remove the webhook (204)
//	PUT    /users/{email}/channels          turn channels on or off
//	GET|POST /email/verify, /email/unsubscribe  the e-mail channel's link pages (HTML; see emailRoutes)
//
// It panics when a required dependency is missing: that is a wiring mistake, found at start-up.
func NewUserCommands(d UserCommands) http.Handler {
	for name, dep := range map[string]any{
		"RegisterUser": d.RegisterUser, "UpdateUser": d.UpdateUser, "Subscribe": d.Subscribe,
		"Unsubscribe": d.Unsubscribe, "DeleteUser": d.DeleteUser, "IssueLinkCode": d.IssueLinkCode,
		"Authenticate": d.Authenticate, "UserProfile": d.UserProfile, "Once": d.Once,
		"CreateRule": d.CreateRule, "DeleteRule": d.DeleteRule,
		"EnableChannel": d.EnableChannel,
	} {
		if dep == nil {
			panic("httpapi: UserCommands." + name + " is required")
		}
	}
	e := newEdge(d.Authenticate, d.Logger)
	e.limit = d.Limiter
	c := &commands{deps: d, bot: strings.TrimPrefix(strings.TrimSpace(d.BotUsername), "@")}
	mux := http.NewServeMux()
	mux.Handle("POST /users", e.public(c.register))
	// The writes that can add a symbol share the registrations' per-address limit: each new symbol costs
	// a question to the quote source, so a token must not buy an unbounded number of them.
	mux.Handle("PATCH /users/{email}", e.limit.Wrap(e.authenticated(c.update)))
	mux.Handle("PUT /users/{email}/tickers/{ticker}", e.limit.Wrap(e.authenticated(c.putTicker)))
	mux.Handle("DELETE /users/{email}/tickers/{ticker}", e.authenticated(c.deleteTicker))
	mux.Handle("DELETE /users/{email}", e.authenticated(c.deleteUser))
	mux.Handle("POST /users/{email}/telegram-link", e.authenticated(c.telegramLink))
	mux.Handle("POST /users/{email}/alerts", e.limit.Wrap(e.authenticated(c.createRule)))
	mux.Handle("DELETE /users/{email}/alerts/{id}", e.authenticated(c.deleteRule))
	if d.RegisterWebhook != nil && d.DeleteWebhook != nil {
		mux.Handle("PUT /users/{email}/webhook", e.authenticated(c.putWebhook))
		mux.Handle("DELETE /users/{email}/webhook", e.authenticated(c.deleteWebhook))
	}
	mux.Handle("PUT /users/{email}/channels", e.authenticated(c.putChannels))
	if d.VerifyEmail != nil && d.UnsubscribeEmail != nil {
		c.emailRoutes(mux, e)
	}
	return router{mux}
}

// NewStockQueries returns the handler of the stock-queries function:
//
//	GET /users/{email}                               profile with subscriptions and thresholds
//	GET /users/{email}/latest[?ticker=T]             latest recorded price of T, or of every
//	                                                 ticker with a live rule
//	GET /users/{email}/average?count=N[&ticker=T]    mean of the last N recorded prices
//	GET /users/{email}/alerts[?ticker=T]             the user's alert rules
//	GET /users/{email}/alerts/history[?ticker=T&limit=N]  the alerts raised, newest first
//	GET /users/{email}/channels                      the user's channels and their state
//	GET /users/{email}/chart?ticker=T[&range=R]      a PNG chart of T over R with the user's levels
//
// It panics when a required dependency is missing.
func NewStockQueries(d StockQueries) http.Handler {
	for name, dep := range map[string]any{
		"Authenticate": d.Authenticate, "UserProfile": d.UserProfile,
		"LatestPrice": d.LatestPrice, "AveragePrice": d.AveragePrice, "LatestPrices": d.LatestPrices,
		"Rules": d.Rules, "AlertHistory": d.AlertHistory,
		"ChannelStates": d.ChannelStates, "Chart": d.Chart,
	} {
		if dep == nil {
			panic("httpapi: StockQueries." + name + " is required")
		}
	}
	e := newEdge(d.Authenticate, d.Logger)
	q := &queries{deps: d}
	mux := http.NewServeMux()
	mux.Handle("GET /users/{email}", e.authenticated(q.profile))
	mux.Handle("GET /users/{email}/latest", e.authenticated(q.latest))
	mux.Handle("GET /users/{email}/average", e.authenticated(q.average))
	mux.Handle("GET /users/{email}/alerts", e.authenticated(q.rules))
	mux.Handle("GET /users/{email}/alerts/history", e.authenticated(q.history))
	mux.Handle("GET /users/{email}/channels", e.authenticated(q.channels))
	mux.Handle("GET /users/{email}/chart", e.authenticated(q.chart))
	return router{mux}
}

// commands holds the write side's endpoints (one file each).
type commands struct {
	deps UserCommands
	bot  string
}

// queries holds the read side's endpoints (one file each).
type queries struct {
	deps StockQueries
}

// deepLink returns the deep link that starts the bot with code, or "" without a bot username.
func deepLink(bot, code string) string {
	if bot == "" {
		return ""
	}
	return "https://t.me/" + url.PathEscape(bot) + "?start=" + url.QueryEscape(code)
}

// router serves mux and answers what mux does not route with a JSON 404, or a JSON 405 with Allow.
// Paths that are not clean ("//", "/./", "/../") are 404 too: the mux would redirect them to their
// clean form, and a client following that redirect could send DELETE …/tickers/.. to DELETE /users/….
type router struct{ mux *http.ServeMux }

func (rt router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.EscapedPath(); path.Clean(p) != p {
		httpjson.WriteError(w, http.StatusNotFound, "no such endpoint", "")
		return
	}
	h, pattern := rt.mux.Handler(r)
	if pattern != "" {
		faas.SetRoute(r, pattern) // now, so that a 504 or a 499 is counted under its route too
		rt.mux.ServeHTTP(w, r)    // sets r.Pattern and the path values
		return
	}
	// Let the mux decide between "no such path" and "not with this method", then answer in JSON.
	probe := &probeWriter{header: make(http.Header)}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		httpjson.WriteError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed here", "")
		return
	}
	httpjson.WriteError(w, http.StatusNotFound, "no such endpoint", "")
}

// probeWriter records the status and headers of the mux's own 404/405 answer and drops its body.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header         { return p.header }
func (p *probeWriter) WriteHeader(status int)      { p.status = status }
func (p *probeWriter) Write(b []byte) (int, error) { return len(b), nil }
