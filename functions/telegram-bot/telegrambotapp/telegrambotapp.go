// Package telegrambotapp is the composition root of the telegram-bot function, the bot's Telegram
// webhook: an HTTP function that Telegram (or, in `make run`, the local FaaS forwarding long-polled
// updates) posts every update to. It runs the chat commands (/start, /register, /token, /status, /set,
// /stop, /resume, /help, …) against the store and replies in the chat (see
// shared/edge/telegrambot.Webhook). Its main package and the tests
// run this wiring.
//
// Secrets (file in secret_mount_path, else the environment variable):
//
//	telegram-bot-token       TELEGRAM_BOT_TOKEN        without it the webhook answers 503 (the bot cannot reply)
//	telegram-webhook-secret  TELEGRAM_WEBHOOK_SECRET   required unless TELEGRAM_WEBHOOK_ALLOW_NO_SECRET=true
//	mysql-dsn                MYSQL_DSN                 optional: SQLite at SQLITE_PATH otherwise
//
// Environment: TELEGRAM_API_URL, TELEGRAM_BOT_USERNAME, TELEGRAM_SEND_TIMEOUT (one reply, default 5s),
// TELEGRAM_WEBHOOK_ALLOW_NO_SECRET (local development only), QUOTE_MAX_AGE (query.Freshness: /status
// and /alerts flag older prices as stale), QUOTE_SOURCE and the YAHOO_* settings (shared/quotesource:
// the source /price asks, behind its circuit breaker, and /watch and /register <email> <TICKER> check
// a new symbol against, as user-commands does), PRICE_CACHE_TTL (how long /price keeps a symbol's
// answer, default 30s), CHART_CACHE_TTL (how long /chart keeps a ticker's history per range, default
// 1m), SYMBOL_CHECK_TIMEOUT, MAX_RULES_PER_USER, SQLITE_PATH, IDEMPOTENCY_TTL and
// DB_MAX_OPEN_CONNS (shared/sqlstore/configured), and the function runtime's (see shared/faas.Config).
package telegrambotapp

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/chart"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/edge/httpjson"
	"github.com/stockalert/stockalert/shared/edge/telegrambot"
	"github.com/stockalert/stockalert/shared/email"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/quotesource"
	"github.com/stockalert/stockalert/shared/sqlstore/configured"
	"github.com/stockalert/stockalert/shared/telegram"
)

// config is the function's own environment.
type config struct {
	// Email configures the verification mail /channels email on sends (SMTP_*, PUBLIC_BASE_URL; the
	// relay is the secret smtp-url, as on user-commands); VerificationTTL and VerificationsPerHour as
	// there.
	Email                email.Config
	VerificationTTL      time.Duration `env:"EMAIL_VERIFICATION_TTL" envDefault:"24h"`
	VerificationsPerHour int           `env:"EMAIL_VERIFICATIONS_PER_HOUR" envDefault:"3"`
	// APIURL is the Bot API's address (a fake in tests; empty for Telegram's).
	APIURL string `env:"TELEGRAM_API_URL"`
	// BotUsername lets the bot answer /command@username in groups.
	BotUsername string `env:"TELEGRAM_BOT_USERNAME"`
	// AllowNoSecret runs the webhook without a secret token: local development only.
	AllowNoSecret bool `env:"TELEGRAM_WEBHOOK_ALLOW_NO_SECRET" envDefault:"false"`
	// SendTimeout bounds one reply; keep it well below exec_timeout.
	SendTimeout time.Duration `env:"TELEGRAM_SEND_TIMEOUT" envDefault:"5s"`
	// Freshness flags /status prices older than QUOTE_MAX_AGE as stale.
	Freshness query.Freshness
	// Quotes is the source /price asks, behind its breaker, and /watch and /register <email> <TICKER>
	// check a new symbol against (as user-commands does): yahoo or simulated.
	Quotes quotesource.Config
	// SymbolCheckTimeout bounds the source's answer about a new symbol; past it the symbol is accepted
	// unverified.
	SymbolCheckTimeout time.Duration `env:"SYMBOL_CHECK_TIMEOUT" envDefault:"5s"`
	// MaxRulesPerUser bounds how many alert rules one user may have, of every kind, ranges included.
	MaxRulesPerUser int `env:"MAX_RULES_PER_USER" envDefault:"100"`
	// PriceCacheTTL is how long /price keeps a symbol's answer: a burst of asks makes one call.
	PriceCacheTTL time.Duration `env:"PRICE_CACHE_TTL" envDefault:"30s"`
	// ChartCacheTTL is how long /chart keeps a ticker's history per range: a burst makes one call.
	ChartCacheTTL time.Duration `env:"CHART_CACHE_TTL" envDefault:"1m"`
}

// Secret names, with their environment fallbacks for local runs.
const (
	// BotTokenSecret holds the Bot API token; BotTokenEnv is its fallback.
	BotTokenSecret = "telegram-bot-token" //nolint:gosec // G101: a secret's name, not a credential
	BotTokenEnv    = "TELEGRAM_BOT_TOKEN" //nolint:gosec // G101: a variable's name, not a credential
	// WebhookSecretSecret holds the secret_token given to setWebhook; WebhookSecretEnv is its fallback.
	WebhookSecretSecret = "telegram-webhook-secret"
	WebhookSecretEnv    = "TELEGRAM_WEBHOOK_SECRET"
)

// Flood control: wait out a retry_after of up to floodWait once, in place, before answering 5xx.
const floodWait = 2 * time.Second

// Name is the function's name in stack.yml, its logs and its metrics.
const Name = "telegram-bot"

// Wire is the function's faas.Wiring: it builds the bot's webhook (telegrambot.NewWebhook) over the
// configured store, replying through the flood-control-wrapped Telegram sender, with the use cases'
// logging and metrics on p; without a bot token, a handler that answers 503. Errors: bad
// configuration, no webhook secret (unless allowed), a malformed token or bot username, an unreadable
// secret, or a store that cannot be opened or migrated.
func Wire(ctx context.Context, p *faas.Process) (http.Handler, error) {
	var cfg config
	if err := p.Parse(&cfg); err != nil {
		return nil, err
	}
	if err := cfg.Freshness.Validate(); err != nil {
		return nil, err
	}
	token, ok, err := p.Secrets.Optional(BotTokenSecret, BotTokenEnv)
	if err != nil {
		return nil, err
	}
	if !ok {
		// Not an error: `make run` without Telegram (its default) runs every other function. The bot
		// stays off; an INFO line, so the default start prints no warnings.
		p.Logger.Info("no Telegram bot token (secret " + BotTokenSecret + " or " + BotTokenEnv +
			"): the bot is off and its webhook answers 503; set the token and restart the function")
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			httpjson.WriteError(w, http.StatusServiceUnavailable, "the Telegram bot is not configured: no bot token", "")
		}), nil
	}
	secret, _, err := p.Secrets.Optional(WebhookSecretSecret, WebhookSecretEnv)
	if err != nil {
		return nil, err
	}
	if secret == "" && !cfg.AllowNoSecret {
		return nil, fmt.Errorf("no webhook secret: put the secret_token given to setWebhook in secret %s (or %s); "+
			"TELEGRAM_WEBHOOK_ALLOW_NO_SECRET=true runs without one, for local development only", WebhookSecretSecret, WebhookSecretEnv)
	}
	sender, err := telegram.NewSender(token, cfg.APIURL, telegram.WithTimeout(cfg.SendTimeout), telegram.WithLogger(p.Logger))
	if err != nil {
		return nil, err
	}

	store, err := configured.OpenFrom(ctx, p.Env, p.Secrets, p.Logger)
	if err != nil {
		return nil, err
	}
	p.Attach("database", store)
	if cfg.VerificationTTL <= 0 || cfg.VerificationsPerHour < 1 {
		return nil, fmt.Errorf("EMAIL_VERIFICATION_TTL (%s) and EMAIL_VERIFICATIONS_PER_HOUR (%d) must be positive",
			cfg.VerificationTTL, cfg.VerificationsPerHour)
	}
	mailer, err := email.OpenFromSecrets(cfg.Email, p.Secrets, p.Logger)
	if err != nil {
		return nil, err
	}
	m, err := decorator.NewMetrics(p.Registry)
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
	check := command.CheckSymbols(source, store, cfg.SymbolCheckTimeout)
	limit := command.MaxRulesPerUser(cfg.MaxRulesPerUser)
	quotes, err := quotesource.NewCache(source, cfg.PriceCacheTTL, 0)
	if err != nil {
		return nil, fmt.Errorf("PRICE_CACHE_TTL: %w", err)
	}
	histories, err := quotesource.NewHistoryCache(source, cfg.ChartCacheTTL, 0)
	if err != nil {
		return nil, fmt.Errorf("CHART_CACHE_TTL: %w", err)
	}

	hook, err := telegrambot.NewWebhook(telegrambot.WebhookConfig{
		// /web links to the dashboard function behind the same public address as the e-mail links.
		WebLogin:      command.NewIssueWebLoginHandler(store, nil, p.Logger, m),
		DashboardURL:  dashboardURL(cfg.Email.PublicBaseURL),
		SecretToken:   secret,
		AllowNoSecret: cfg.AllowNoSecret,
		BotUsername:   cfg.BotUsername,
		Link:          command.NewLinkTelegramHandler(store, p.Logger, m),
		SetInterval:   command.NewSetNotifyIntervalHandler(store, p.Logger, m),
		SetPaused:     command.NewSetPausedHandler(store, p.Logger, m),
		Status:        query.NewChatProfileHandler(store, cfg.Freshness, p.Logger, m),
		MoveChat:      command.NewMoveTelegramChatHandler(store, p.Logger, m),
		CreateRule:    command.NewCreateRuleHandler(store, nil, p.Logger, m, check, limit),
		Subscribe:     command.NewSubscribeHandler(store, p.Logger, m, check, limit),
		DeleteRule:    command.NewDeleteRuleHandler(store, p.Logger, m),
		Unsubscribe:   command.NewUnsubscribeHandler(store, p.Logger, m),
		SnoozeRule:    command.NewSnoozeRuleHandler(store, nil, p.Logger, m),
		Rules:         query.NewRulesHandler(store, cfg.Freshness, p.Logger, m),
		History:       query.NewAlertHistoryHandler(store, p.Logger, m),
		Register:      command.NewRegisterUserHandler(store, p.Logger, m, check, limit),
		RotateToken:   command.NewRotateTokenHandler(store, p.Logger, m),
		CodeHolder:    query.NewLinkCodeHolderHandler(store, p.Logger, m),

		Prices:        query.NewCurrentQuotesHandler(quotes, store, query.DefaultQuoteTimeout, p.Logger, m),
		SetTimeZone:   command.NewSetTimeZoneHandler(store, p.Logger, m),
		SetQuietHours: command.NewSetQuietHoursHandler(store, p.Logger, m),
		VerifyEmail:   command.NewVerifyEmailHandler(store, store, nil, p.Logger, m),

		Channels: query.NewChannelStatesHandler(store, p.Logger, m),
		// No EmailVerifier yet: /channels email on answers "e-mail is not configured on this server".
		EnableChannel: command.NewEnableChannelHandler(store, command.EmailVerifierOf(command.NewSendEmailVerificationHandler(store, mailer,
			command.EmailVerificationSettings{TTL: cfg.VerificationTTL, PerHour: cfg.VerificationsPerHour}, p.Logger, m)), p.Logger, m),

		Chart:  query.NewChartHandler(store, histories, chart.Renderer{}, p.Logger, m),
		Photos: sender,

		Replies:      telegram.NewRetryAfter(sender, floodWait, 2),
		Bot:          sender,
		Logger:       p.Logger,
		MaxBodyBytes: p.Config.MaxBodyBytes,
	})
	if err != nil {
		return nil, err
	}
	go registerMenus(context.WithoutCancel(ctx), sender, hook, p.Logger)
	return hook, nil
}

// registerMenus sets the bot's "/" menus (setMyCommands for private chats and for groups) to the
// webhook's commands, so Telegram shows them as the user types "/". It runs once per start, beside
// the function's start-up: a failure (Telegram unreachable) is logged and leaves the previous menus.
func registerMenus(ctx context.Context, sender *telegram.Sender, hook *telegrambot.Webhook, logger *slog.Logger) {
	private, groups := hook.Menu()
	for scope, menu := range map[string][]telegrambot.MenuCommand{telegram.ScopePrivateChats: private, telegram.ScopeGroupChats: groups} {
		cmds := make([]telegram.BotCommand, len(menu))
		for i, c := range menu {
			cmds[i] = telegram.BotCommand{Command: c.Command, Description: c.Description}
		}
		if err := sender.SetMyCommands(ctx, scope, cmds); err != nil {
			logger.Warn("could not set the bot's command menu; Telegram keeps the previous one", "scope", scope, "err", err.Error())
			continue
		}
		logger.Info("bot command menu set", "event", "telegram-menu", "scope", scope, "commands", len(cmds))
	}
}

// dashboardURL is the dashboard function's public address under the gateway's (PUBLIC_BASE_URL); ""
// when that is not set.
func dashboardURL(publicBaseURL string) string {
	if publicBaseURL == "" {
		return ""
	}
	return strings.TrimRight(publicBaseURL, "/") + "/function/dashboard"
}
