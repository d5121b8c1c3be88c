// Package usercommandsapp is the composition root of the user-commands function, the write side of the
// stockalert HTTP API: register, update, subscribe, unsubscribe and delete users, and issue Telegram
// link codes (see shared/edge/httpapi). Its main package and the tests run this wiring.
//
// Secrets (file in secret_mount_path, else the environment variable):
//
//	mysql-dsn                MYSQL_DSN                 optional: SQLite at SQLITE_PATH otherwise
//
// Environment: TELEGRAM_BOT_USERNAME, the bot's username, makes registration answer a
// https://t.me/<bot>?start=<code> link next to the link code; REGISTRATION_ACCEPTS_CHAT_ID (default
// true) keeps the original API's telegram_chat_id on POST /users (linked unverified);
// PUBLIC_WRITES_PER_MINUTE, PUBLIC_WRITES_BURST, PUBLIC_WRITES_MAX_CLIENTS and TRUSTED_PROXY_HOPS limit
// POST /users per client address (httpapi.ClientLimits); and SQLITE_PATH,
// IDEMPOTENCY_TTL and DB_MAX_OPEN_CONNS (shared/sqlstore/configured), and the function runtime's
// (port, bind, exec_timeout, max_body_bytes, log_format… see shared/faas.Config).
package usercommandsapp

import (
	"context"
	"net/http"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/edge/httpapi"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/sqlstore/configured"
)

// config is this function's own environment.
type config struct {
	BotUsername string `env:"TELEGRAM_BOT_USERNAME"`
	// AcceptChatID keeps the original API's telegram_chat_id on POST /users (linked unverified).
	AcceptChatID bool `env:"REGISTRATION_ACCEPTS_CHAT_ID" envDefault:"true"`
	// Limits rate-limits POST /users per client address.
	Limits httpapi.ClientLimits
}

// Name is the function's name in stack.yml, its logs and its metrics.
const Name = "user-commands"

// Wire is the function's faas.Wiring: it builds the write side of the HTTP API
// (httpapi.NewUserCommands) over the configured store, with the use cases' logging and metrics on p.
// Errors: bad configuration, an unreadable secret, or a store that cannot be opened or migrated.
func Wire(ctx context.Context, p *faas.Process) (http.Handler, error) {
	var cfg config
	if err := p.Parse(&cfg); err != nil {
		return nil, err
	}
	store, err := configured.OpenFrom(ctx, p.Env, p.Secrets, p.Logger)
	if err != nil {
		return nil, err
	}
	p.Attach("database", store)
	m, err := decorator.NewMetrics(p.Registry)
	if err != nil {
		return nil, err
	}
	limiter, err := httpapi.NewClientLimiter(cfg.Limits, p.Registry)
	if err != nil {
		return nil, err
	}
	return httpapi.NewUserCommands(httpapi.UserCommands{
		RegisterUser:  command.NewRegisterUserHandler(store, p.Logger, m),
		UpdateUser:    command.NewUpdateUserHandler(store, p.Logger, m),
		Subscribe:     command.NewSubscribeHandler(store, p.Logger, m),
		Unsubscribe:   command.NewUnsubscribeHandler(store, p.Logger, m),
		DeleteUser:    command.NewDeleteUserHandler(store, p.Logger, m),
		IssueLinkCode: command.NewIssueLinkCodeHandler(store, p.Logger, m),
		Authenticate:  query.NewAuthenticateHandler(store, p.Logger, m),
		UserProfile:   query.NewUserProfileHandler(store, p.Logger, m),
		Once:          store,
		BotUsername:   cfg.BotUsername,
		RefuseChatID:  !cfg.AcceptChatID,
		MaxBodyBytes:  p.Config.MaxBodyBytes,
		Limiter:       limiter,
		Logger:        p.Logger,
	}), nil
}
