// Package alertnotifierapp is the composition root of the alert-notifier function, triggered by Kafka
// topic to-notifier (stockalert.TopicAlerts): it sends each alert to the Telegram chat linked to its
// user at Telegram's documented pace (telegram.Pacer), never before a retry_after Telegram asked for,
// waiting in place up to TELEGRAM_MAX_RETRY_AFTER, and records the outcome in the notification log. A
// chat that moved (a group upgraded to a supergroup) is followed. During the user's quiet hours an alert
// is held (logged, not sent); the summary event the data-collector queues once they are over is sent
// as one message (alertmessage.Summary) and the held alerts are marked sent. Without a bot token it runs dry: it logs what it would send.
// Beside Telegram it fans each alert out to the user's other enabled channels (command.Channels), one
// claimed and logged delivery per (alert, channel); a channel enabled without its adapter here is
// logged undeliverable ("… is not configured on this server").
// Alerts also go to the user's webhook when one is registered and enabled (shared/webhook: signed POSTs,
// retries within WEBHOOK_RETRY_WINDOW, turned off after WEBHOOK_MAX_FAILURES consecutive failures with a
// notice on the user's other channels).
// Its main package and the tests run this wiring.
//
// Secrets (file in secret_mount_path, else the environment variable):
//
//	telegram-bot-token       TELEGRAM_BOT_TOKEN        optional: a dry run without it
//	mysql-dsn                MYSQL_DSN                 optional: SQLite at SQLITE_PATH otherwise
//	smtp-url                 SMTP_URL                  optional: the e-mail channel is off without it
//	smtp-dkim-key            SMTP_DKIM_KEY             optional: DKIM-sign alert mails (shared/email)
//
// The e-mail channel's environment: SMTP_FROM, SMTP_TIMEOUT, SMTP_CA_FILE, SMTP_DKIM_DOMAIN, SMTP_DKIM_SELECTOR,
// PUBLIC_BASE_URL (shared/email.Config).
//
// Environment: TELEGRAM_API_URL (the Bot API, default https://api.telegram.org),
// TELEGRAM_MAX_RETRY_AFTER (the longest wait, retry_after or pace, taken in place, default 5s; longer
// ones answer 503 with Retry-After and Telegram is not called), TELEGRAM_BOT_MESSAGES_PER_SECOND (30),
// TELEGRAM_CHAT_MESSAGES_PER_SECOND (1), TELEGRAM_GROUP_MESSAGES_PER_MINUTE (20), WEBHOOK_TIMEOUT (5s),
// WEBHOOK_RETRY_WINDOW (15s), WEBHOOK_FIRST_RETRY (1s), WEBHOOK_MAX_RETRY_AFTER (10s), WEBHOOK_MAX_FAILURES (10),
// WEBHOOK_ALLOW_PRIVATE and WEBHOOK_ALLOW_HTTP_LOOPBACK (false; development), SQLITE_PATH, IDEMPOTENCY_TTL and DB_MAX_OPEN_CONNS
// (shared/sqlstore/configured), and the function runtime's (port, bind, exec_timeout, max_body_bytes,
// log_format… see shared/faas.Config).
package alertnotifierapp

import (
	"context"
	"net/http"
	"time"

	"github.com/stockalert/stockalert/shared/alertmessage"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/edge/telegrambot"
	"github.com/stockalert/stockalert/shared/edge/trigger"
	"github.com/stockalert/stockalert/shared/email"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/sqlstore/configured"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram"
)

type config struct {
	APIURL string `env:"TELEGRAM_API_URL" envDefault:"https://api.telegram.org"`
	// MaxRetryAfter is the longest flood-control pause waited out in place; longer ones go back to the
	// connector as a 503 with Retry-After.
	MaxRetryAfter time.Duration `env:"TELEGRAM_MAX_RETRY_AFTER" envDefault:"5s"`
	// The pace (Telegram Bot API FAQ): per bot (shared by the replicas: give each 30/replicas), per
	// private chat, per group.
	BotPerSecond   float64 `env:"TELEGRAM_BOT_MESSAGES_PER_SECOND" envDefault:"30"`
	ChatPerSecond  float64 `env:"TELEGRAM_CHAT_MESSAGES_PER_SECOND" envDefault:"1"`
	GroupPerMinute float64 `env:"TELEGRAM_GROUP_MESSAGES_PER_MINUTE" envDefault:"20"`
	// Email configures the e-mail channel (SMTP_*, PUBLIC_BASE_URL).
	Email email.Config
}

// Name is the function's name in stack.yml, its logs and its metrics.
const Name = "alert-notifier"

// Wire is the function's faas.Wiring: it builds the Kafka-triggered handler (trigger.Message) that
// sends each stockalert.AlertEvent through the paced Telegram sender (or the dry run)
// and records it, with the use cases' logging and metrics on p. Errors: bad configuration, an
// unreadable secret, a malformed bot token, or a store that cannot be opened or migrated.
func Wire(ctx context.Context, p *faas.Process) (http.Handler, error) {
	return wire(ctx, p)
}

func wire(ctx context.Context, p *faas.Process) (http.Handler, error) {
	var cfg config
	if err := p.Parse(&cfg); err != nil {
		return nil, err
	}
	token, ok, err := p.Secrets.Optional("telegram-bot-token", "TELEGRAM_BOT_TOKEN")
	if err != nil {
		return nil, err
	}
	var messenger command.Messenger
	if ok {
		sender, err := telegram.NewSender(token, cfg.APIURL, telegram.WithLogger(p.Logger))
		if err != nil {
			return nil, err
		}
		messenger, err = telegram.NewPacer(sender, telegram.PaceConfig{
			BotPerSecond: cfg.BotPerSecond, ChatPerSecond: cfg.ChatPerSecond, GroupPerMinute: cfg.GroupPerMinute,
			MaxWait: cfg.MaxRetryAfter, Attempts: 3,
		})
		if err != nil {
			return nil, err
		}
	} else {
		// `make run`'s default: an INFO line, so the default start prints no warnings.
		p.Logger.Info("no Telegram bot token (secret telegram-bot-token or TELEGRAM_BOT_TOKEN): dry run, alerts are logged, not sent")
		messenger = telegram.NewDryRun(p.Logger)
	}

	// The e-mail channel (off without an SMTP relay: its deliveries are logged undeliverable, "e-mail is
	// not configured on this server").
	mail, err := email.OpenFromSecrets(cfg.Email, p.Secrets, p.Logger)
	if err != nil {
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
	// The channels beside Telegram (command.Channels takes them all in one call).
	webhooks, err := webhookChannel(p, store)
	if err != nil {
		return nil, err
	}
	send := command.NewSendAlertHandler(store, messenger, alertMessage,
		command.NewRecordNotificationHandler(store, p.Logger, m), command.NewMoveTelegramChatHandler(store, p.Logger, m), p.Logger, m,
		command.QuietSummaryFormat(alertmessage.Summary),
		// The channels beside Telegram: a channel a user enabled without its adapter here is logged
		// undeliverable ("… is not configured on this server").
		command.Channels(store, mail, webhooks))
	return trigger.Message(func(ctx context.Context, a stockalert.AlertEvent) error {
		return send.Handle(ctx, command.SendAlert{Alert: a})
	}, p.Config.MaxBodyBytes, p.Logger), nil
}

// alertMessage renders an alert for Telegram: alertmessage's text with the webhook's buttons under it
// ("Snooze 1h", "Delete alert"; see telegrambot.AlertKeyboard), which the telegram-bot function serves.
func alertMessage(ev stockalert.AlertEvent, loc *time.Location) command.ChatMessage {
	return command.ChatMessage{Text: alertmessage.Text(ev, loc), Keyboard: telegrambot.AlertKeyboard(ev)}
}
