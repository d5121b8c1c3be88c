package trigger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// TelegramSecretHeader is the header Telegram sets on webhook deliveries, and the forwarder too.
const TelegramSecretHeader = "X-Telegram-Bot-Api-Secret-Token" //nolint:gosec // G101: a header name, not a credential

// TelegramConfig configures the Telegram forwarder.
type TelegramConfig struct {
	// Token is the bot's token; APIURL the Bot API's address (https://api.telegram.org when empty).
	Token  string
	APIURL string
	// Gateway is the gateway's URL and Function the webhook function.
	Gateway  string
	Function string
	// Secret is sent as X-Telegram-Bot-Api-Secret-Token, as Telegram sends setWebhook's secret_token.
	Secret string
	// Timeout bounds one forwarded delivery (default 30s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// TelegramForwarder long-polls the Bot API for updates and delivers each one to the webhook function
// through the gateway exactly as Telegram would deliver it to a webhook: a POST of the update's JSON with
// the secret header. It delivers in order, one at a time; a delivery that fails (5xx, no answer) is
// retried with backoff before the next one, as Telegram does; one refused with a 4xx is logged and
// dropped. So the bot works on a machine with no public URL.
type TelegramForwarder struct {
	cfg    TelegramConfig
	client *http.Client
}

// NewTelegramForwarder checks cfg: its error names the missing settings. It makes no network call.
func NewTelegramForwarder(cfg TelegramConfig) (*TelegramForwarder, error) {
	if cfg.Token == "" || cfg.Gateway == "" || cfg.Function == "" {
		return nil, errors.New("telegram forwarder: a bot token, the gateway URL and the webhook function are required")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = "https://api.telegram.org"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &TelegramForwarder{cfg: cfg, client: &http.Client{Timeout: cfg.Timeout}}, nil
}

// Run polls and forwards until ctx is cancelled. It returns an error at once when Telegram refuses the
// token; later polling errors (a network outage, a webhook set for the same bot) are logged and retried.
func (f *TelegramForwarder) Run(ctx context.Context) error {
	b, err := bot.New(f.cfg.Token,
		bot.WithServerURL(strings.TrimSuffix(f.cfg.APIURL, "/")),
		bot.WithDefaultHandler(f.forward),
		bot.WithWorkers(1),
		bot.WithNotAsyncHandlers(),
		bot.WithUpdatesChannelCap(0),
		bot.WithErrorsHandler(func(err error) {
			hint := ""
			if strings.Contains(err.Error(), "409") || strings.Contains(strings.ToLower(err.Error()), "conflict") {
				hint = " (this bot has a webhook set: getUpdates works only without one; deleteWebhook to poll locally)"
			}
			f.cfg.Logger.Warn("telegram polling failed"+hint, "err", err)
		}),
	)
	if err != nil {
		return fmt.Errorf("telegram forwarder: %w", err)
	}
	f.cfg.Logger.Info("telegram: long-polling for updates", "function", f.cfg.Function)
	b.Start(ctx)
	return nil
}

// forward delivers one update, retrying transient failures until it is accepted or ctx ends.
func (f *TelegramForwarder) forward(ctx context.Context, _ *bot.Bot, upd *models.Update) {
	body, err := json.Marshal(upd)
	if err != nil {
		f.cfg.Logger.Error("telegram: cannot encode update", "update_id", upd.ID, "err", err)
		return
	}
	url := strings.TrimSuffix(f.cfg.Gateway, "/") + "/function/" + f.cfg.Function
	_, err = backoff.Retry(ctx, func() (struct{}, error) {
		return struct{}{}, f.deliver(ctx, url, body)
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{
		InitialInterval: 200 * time.Millisecond, RandomizationFactor: 0.3, Multiplier: 2, MaxInterval: 10 * time.Second,
	}), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(err error, next time.Duration) {
		f.cfg.Logger.Warn("telegram: update not delivered, retrying", "update_id", upd.ID, "in", next, "err", err)
	}))
	var perm *backoff.PermanentError
	switch {
	case err == nil:
		f.cfg.Logger.Debug("telegram: update delivered", "update_id", upd.ID)
	case errors.As(err, &perm):
		f.cfg.Logger.Error("telegram: update refused, dropped", "update_id", upd.ID, "err", err)
	default:
		f.cfg.Logger.Warn("telegram: update not delivered before shutdown", "update_id", upd.ID, "err", err)
	}
}

func (f *TelegramForwarder) deliver(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return backoff.Permanent(fmt.Errorf("deliver to %s: %w", f.cfg.Function, err))
	}
	req.Header.Set("Content-Type", "application/json")
	if f.cfg.Secret != "" {
		req.Header.Set(TelegramSecretHeader, f.cfg.Secret)
	}
	res, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("deliver to %s: %w", f.cfg.Function, err)
	}
	msg, err := io.ReadAll(io.LimitReader(res.Body, 512))
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s answered %d, then: %w", f.cfg.Function, res.StatusCode, err)
	}
	switch {
	case res.StatusCode < 300:
		return nil
	case res.StatusCode == http.StatusUnauthorized:
		return backoff.Permanent(fmt.Errorf("%s answered 401: the forwarder's secret is not the function's telegram-webhook-secret", f.cfg.Function))
	case res.StatusCode < 500 && res.StatusCode != http.StatusTooManyRequests:
		return backoff.Permanent(fmt.Errorf("%s answered %d: %s", f.cfg.Function, res.StatusCode, bytes.TrimSpace(msg)))
	default:
		return fmt.Errorf("%s answered %d: %s", f.cfg.Function, res.StatusCode, bytes.TrimSpace(msg))
	}
}
