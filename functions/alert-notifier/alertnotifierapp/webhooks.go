package alertnotifierapp

import (
	"time"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/webhook"
)

// webhookConfig is the webhook channel's environment (README "Configuration").
type webhookConfig struct {
	// Timeout bounds one request; RetryWindow the retries of one delivery (then the alert comes back
	// later); MaxRetryAfter the receiver's Retry-After taken in place.
	Timeout     time.Duration `env:"WEBHOOK_TIMEOUT" envDefault:"5s"`
	RetryWindow time.Duration `env:"WEBHOOK_RETRY_WINDOW" envDefault:"15s"`
	// FirstRetry is the first pause between attempts, doubling with jitter.
	FirstRetry    time.Duration `env:"WEBHOOK_FIRST_RETRY" envDefault:"1s"`
	MaxRetryAfter time.Duration `env:"WEBHOOK_MAX_RETRY_AFTER" envDefault:"10s"`
	// MaxFailures consecutive failed deliveries turn a user's webhook off.
	MaxFailures int `env:"WEBHOOK_MAX_FAILURES" envDefault:"10"`
	// Development only: reach private and local addresses; accept http:// on loopback.
	AllowPrivate      bool `env:"WEBHOOK_ALLOW_PRIVATE" envDefault:"false"`
	AllowHTTPLoopback bool `env:"WEBHOOK_ALLOW_HTTP_LOOPBACK" envDefault:"false"`
}

// webhookChannel returns the signed-webhook channel (shared/webhook), its consecutive failures counted
// in store (command.LimitChannelFailures: at the limit the user's webhook is turned off and a notice
// queued on stockalert.TopicAlerts).
func webhookChannel(p *faas.Process, store *sqlstore.Store) (command.AlertChannel, error) {
	var cfg webhookConfig
	if err := p.Parse(&cfg); err != nil {
		return nil, err
	}
	if cfg.AllowPrivate {
		p.Logger.Warn("WEBHOOK_ALLOW_PRIVATE is set: webhooks may reach private and local addresses (development only)")
	}
	ch := webhook.New(webhook.Config{
		Timeout: cfg.Timeout, RetryWindow: cfg.RetryWindow, FirstRetry: cfg.FirstRetry, MaxRetryAfter: cfg.MaxRetryAfter,
		AllowPrivate: cfg.AllowPrivate, AllowHTTPLoopback: cfg.AllowHTTPLoopback,
	})
	return command.LimitChannelFailures(ch, store, cfg.MaxFailures, stockalert.TopicAlerts, nil), nil
}
