// Package usercommandsapp is the composition root of the user-commands function, the write side of the
// stockalert HTTP API: register, update, subscribe, unsubscribe and delete users, add and remove alert
// rules, issue Telegram link codes, and register or remove a webhook (see shared/edge/httpapi). Its main package and the tests run this wiring.
//
// Secrets (file in secret_mount_path, else the environment variable):
//
//	mysql-dsn                MYSQL_DSN                 optional: SQLite at SQLITE_PATH otherwise
//	smtp-url                 SMTP_URL                  optional: no verification mails without it
//	smtp-dkim-key            SMTP_DKIM_KEY             optional: DKIM-sign the mails (shared/email)
//
// The e-mail channel: the pages behind its links (GET/POST /email/verify, /email/unsubscribe), and the
// verification mails (SMTP_FROM, SMTP_TIMEOUT, SMTP_CA_FILE, SMTP_DKIM_DOMAIN, SMTP_DKIM_SELECTOR, PUBLIC_BASE_URL;
// EMAIL_VERIFICATION_TTL, default 24h, how long a code is valid; EMAIL_VERIFICATIONS_PER_HOUR, default
// 3, how many mails one address may be sent in a rolling hour).
//
// Environment: TELEGRAM_BOT_USERNAME, the bot's username, makes registration answer a
// https://t.me/<bot>?start=<code> link next to the link code; REGISTRATION_ACCEPTS_CHAT_ID (default
// true) keeps the original API's telegram_chat_id on POST /users (linked unverified);
// PUBLIC_WRITES_PER_MINUTE, PUBLIC_WRITES_BURST, PUBLIC_WRITES_MAX_CLIENTS and TRUSTED_PROXY_HOPS limit
// POST /users per client address (httpapi.ClientLimits); QUOTE_SOURCE (yahoo or simulated),
// SYMBOL_CHECK_TIMEOUT and the source's settings (YAHOO_FINANCE_URL, YAHOO_TIMEOUT, YAHOO_USER_AGENT,
// YAHOO_BREAKER_*; SIMULATED_*): a symbol nobody follows yet is checked against it when it is added
// (unknown: 400; source unreachable or breaker open: accepted unverified); MAX_RULES_PER_USER (default
// 100) bounds each user's alert rules, ranges included; WEBHOOK_ALLOW_HTTP_LOOPBACK (default false,
// development) accepts http:// webhook URLs on a loopback host; and SQLITE_PATH,
// IDEMPOTENCY_TTL and DB_MAX_OPEN_CONNS (shared/sqlstore/configured), and the function runtime's
// (port, bind, exec_timeout, max_body_bytes, log_format… see shared/faas.Config).
package usercommandsapp

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/edge/httpapi"
	"github.com/stockalert/stockalert/shared/email"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/quotesource"
	"github.com/stockalert/stockalert/shared/sqlstore/configured"
)

// config is this function's own environment.
type config struct {
	BotUsername string `env:"TELEGRAM_BOT_USERNAME"`
	// AcceptChatID keeps the original API's telegram_chat_id on POST /users (linked unverified).
	AcceptChatID bool `env:"REGISTRATION_ACCEPTS_CHAT_ID" envDefault:"true"`
	// Limits rate-limits POST /users per client address.
	Limits httpapi.ClientLimits
	// Quotes is the source a new symbol is checked against: yahoo or simulated, as the collector's.
	Quotes quotesource.Config
	// SymbolCheckTimeout bounds the source's answer about a new symbol; past it the symbol is accepted
	// unverified.
	SymbolCheckTimeout time.Duration `env:"SYMBOL_CHECK_TIMEOUT" envDefault:"5s"`
	// MaxRulesPerUser bounds how many alert rules one user may have, of every kind, ranges included.
	MaxRulesPerUser int `env:"MAX_RULES_PER_USER" envDefault:"100"`

	// WebhookAllowHTTPLoopback accepts http:// webhook URLs on a loopback host (development).
	WebhookAllowHTTPLoopback bool `env:"WEBHOOK_ALLOW_HTTP_LOOPBACK" envDefault:"false"`
	// Email configures the verification mails (SMTP_*, PUBLIC_BASE_URL).
	Email email.Config
	// VerificationTTL is how long a mailed verification code is valid; VerificationsPerHour how many
	// verification mails one address may be sent in a rolling hour.
	VerificationTTL      time.Duration `env:"EMAIL_VERIFICATION_TTL" envDefault:"24h"`
	VerificationsPerHour int           `env:"EMAIL_VERIFICATIONS_PER_HOUR" envDefault:"3"`
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
	source, err := quotesource.Open(cfg.Quotes, p.Logger, p.Registry)
	if err != nil {
		return nil, err
	}
	if cfg.SymbolCheckTimeout <= 0 {
		return nil, fmt.Errorf("SYMBOL_CHECK_TIMEOUT must be positive, got %s", cfg.SymbolCheckTimeout)
	}
	if cfg.MaxRulesPerUser < 1 {
		return nil, fmt.Errorf("MAX_RULES_PER_USER must be at least 1, got %d", cfg.MaxRulesPerUser)
	}
	if cfg.VerificationTTL <= 0 || cfg.VerificationsPerHour < 1 {
		return nil, fmt.Errorf("EMAIL_VERIFICATION_TTL (%s) and EMAIL_VERIFICATIONS_PER_HOUR (%d) must be positive",
			cfg.VerificationTTL, cfg.VerificationsPerHour)
	}
	mailer, err := email.OpenFromSecrets(cfg.Email, p.Secrets, p.Logger)
	if err != nil {
		return nil, err
	}
	// The verification mail sent when the user turns e-mail on (PUT /users/{email}/channels).
	sendVerification := command.NewSendEmailVerificationHandler(store, mailer, command.EmailVerificationSettings{
		TTL: cfg.VerificationTTL, PerHour: cfg.VerificationsPerHour}, p.Logger, m)
	check := command.CheckSymbols(source, store, cfg.SymbolCheckTimeout)
	limit := command.MaxRulesPerUser(cfg.MaxRulesPerUser)
	return httpapi.NewUserCommands(httpapi.UserCommands{
		RegisterUser:  command.NewRegisterUserHandler(store, p.Logger, m, check, limit),
		UpdateUser:    command.NewUpdateUserHandler(store, p.Logger, m, check, limit),
		Subscribe:     command.NewSubscribeHandler(store, p.Logger, m, check, limit),
		Unsubscribe:   command.NewUnsubscribeHandler(store, p.Logger, m),
		DeleteUser:    command.NewDeleteUserHandler(store, p.Logger, m),
		IssueLinkCode: command.NewIssueLinkCodeHandler(store, p.Logger, m),
		CreateRule:    command.NewCreateRuleHandler(store, nil, p.Logger, m, check, limit),
		DeleteRule:    command.NewDeleteRuleHandler(store, p.Logger, m),
		// No EmailVerifier yet: turning e-mail on answers 409 "e-mail is not configured on this server".
		EnableChannel: command.NewEnableChannelHandler(store, command.EmailVerifierOf(sendVerification), p.Logger, m),
		Authenticate:  query.NewAuthenticateHandler(store, p.Logger, m),
		UserProfile:   query.NewUserProfileHandler(store, p.Logger, m),
		Once:          store,

		RegisterWebhook:           command.NewRegisterWebhookHandler(store, cfg.WebhookAllowHTTPLoopback, p.Logger, m),
		DeleteWebhook:             command.NewDeleteWebhookHandler(store, p.Logger, m),
		AllowHTTPLoopbackWebhooks: cfg.WebhookAllowHTTPLoopback,
		VerifyEmail:               command.NewVerifyEmailHandler(store, store, nil, p.Logger, m),
		UnsubscribeEmail:          command.NewUnsubscribeEmailHandler(store, nil, p.Logger, m),

		BotUsername:  cfg.BotUsername,
		RefuseChatID: !cfg.AcceptChatID,
		MaxBodyBytes: p.Config.MaxBodyBytes,
		Limiter:      limiter,
		Logger:       p.Logger,
	}), nil
}
