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
	"sync"
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
	// Timeout bounds one forwarded delivery and one getMe (default 30s).
	Timeout time.Duration
	// RetryInitial and RetryMax bound the backoff between tries to reach the Bot API when it is
	// unreachable or refuses the bot (defaults 1s and 1m).
	RetryInitial, RetryMax time.Duration
	Logger                 *slog.Logger
}

// TelegramForwarder long-polls the Bot API for updates and delivers each one to the webhook function
// through the gateway exactly as Telegram would deliver it to a webhook: a POST of the update's JSON with
// the secret header. It delivers in order, one at a time; a delivery that fails (5xx, no answer) is
// retried with backoff before the next one, as Telegram does; one refused with a 4xx is logged and
// dropped. So the bot works on a machine with no public URL.
//
// A Bot API that cannot be reached or refuses the bot (401: a wrong token; 404: a wrong URL) never ends
// Run: the forwarder logs it, tries again with exponential backoff, and says so in State.
type TelegramForwarder struct {
	cfg    TelegramConfig
	client *http.Client

	mu    sync.Mutex
	state string
	tried chan struct{} // closed once the first getMe has answered or failed
	once  sync.Once
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
	if cfg.RetryInitial <= 0 {
		cfg.RetryInitial = time.Second
	}
	if cfg.RetryMax < cfg.RetryInitial {
		cfg.RetryMax = max(time.Minute, cfg.RetryInitial)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &TelegramForwarder{
		cfg: cfg, client: &http.Client{Timeout: cfg.Timeout},
		state: "connecting to " + cfg.APIURL, tried: make(chan struct{}),
	}, nil
}

// State says what the forwarder is doing, in words for the status table: connecting, long-polling,
// or why the Bot API cannot be used for now and that it is being retried.
func (f *TelegramForwarder) State() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// Tried is closed once the first attempt to reach the Bot API has succeeded or failed, so State says
// how it went.
func (f *TelegramForwarder) Tried() <-chan struct{} { return f.tried }

func (f *TelegramForwarder) setState(s string) (changed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	changed, f.state = f.state != s, s
	return changed
}

// Run polls and forwards until ctx is cancelled; it returns an error only for a configuration the bot
// library refuses. Until getMe succeeds it retries with backoff (the Bot API unreachable, or refusing
// the token); later polling errors (an outage, a webhook set for the same bot) are logged and retried
// by the polling loop, and State follows them.
func (f *TelegramForwarder) Run(ctx context.Context) error {
	defer f.once.Do(func() { close(f.tried) })
	polling := "long-polling " + f.cfg.APIURL + ", forwarding to " + f.cfg.Function
	b, err := bot.New(f.cfg.Token,
		bot.WithServerURL(strings.TrimSuffix(f.cfg.APIURL, "/")),
		bot.WithSkipGetMe(),
		bot.WithHTTPClient(time.Minute, &http.Client{Transport: &watchPolls{next: http.DefaultTransport, ok: func() {
			if f.setState(polling) {
				f.cfg.Logger.Info("telegram: polling again", "api", f.cfg.APIURL)
			}
		}}}),
		bot.WithDefaultHandler(f.forward),
		// Named, not left to Telegram: it keeps the last list a webhook or poll set, and the bot needs
		// the button presses as well as the messages.
		bot.WithAllowedUpdates(bot.AllowedUpdates{models.AllowedUpdateMessage, models.AllowedUpdateCallbackQuery}),
		bot.WithWorkers(1),
		bot.WithNotAsyncHandlers(),
		bot.WithUpdatesChannelCap(0),
		bot.WithErrorsHandler(func(err error) {
			hint := ""
			if strings.Contains(err.Error(), "409") || strings.Contains(strings.ToLower(err.Error()), "conflict") {
				hint = " (this bot has a webhook set: getUpdates works only without one; deleteWebhook to poll locally)"
			}
			f.setState(f.describe(err) + hint + "; retrying")
			f.cfg.Logger.Warn("telegram polling failed"+hint, "err", f.redact(err))
		}),
	)
	if err != nil {
		return fmt.Errorf("telegram forwarder: %w", err)
	}
	username, err := backoff.Retry(ctx, func() (string, error) {
		cctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
		defer cancel()
		me, err := b.GetMe(cctx)
		if err != nil {
			return "", err
		}
		return me.Username, nil
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{
		InitialInterval: f.cfg.RetryInitial, RandomizationFactor: 0.2, Multiplier: 2, MaxInterval: f.cfg.RetryMax,
	}), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(err error, next time.Duration) {
		f.setState(fmt.Sprintf("%s; retrying in %s", f.describe(err), next.Round(100*time.Millisecond)))
		f.cfg.Logger.Warn("telegram: cannot use the Bot API, retrying", "api", f.cfg.APIURL, "in", next, "err", f.redact(err))
		f.once.Do(func() { close(f.tried) })
	}))
	if err != nil {
		return nil // ctx ended
	}
	f.setState(polling)
	f.once.Do(func() { close(f.tried) })
	f.cfg.Logger.Info("telegram: long-polling for updates", "bot", username, "api", f.cfg.APIURL, "function", f.cfg.Function)
	b.Start(ctx)
	return nil
}

// describe says why the Bot API could not be used, without the token.
func (f *TelegramForwarder) describe(err error) string {
	switch {
	case errors.Is(err, bot.ErrorUnauthorized):
		return "refused by " + f.cfg.APIURL + ": 401 Unauthorized (the bot token is wrong or revoked)"
	case errors.Is(err, bot.ErrorNotFound):
		return "refused by " + f.cfg.APIURL + ": 404 Not Found (is it the Bot API? check TELEGRAM_API_URL)"
	}
	return "cannot reach " + f.cfg.APIURL + ": " + f.redact(err)
}

// redact returns err's text with the bot token (part of every Bot API URL) left out.
func (f *TelegramForwarder) redact(err error) string {
	return strings.ReplaceAll(err.Error(), f.cfg.Token, "<token>")
}

// watchPolls calls ok after every getUpdates the Bot API answered 200, so State sees polling recover.
type watchPolls struct {
	next http.RoundTripper
	ok   func()
}

func (w *watchPolls) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := w.next.RoundTrip(r)
	if err == nil && res.StatusCode == http.StatusOK && strings.HasSuffix(r.URL.Path, "/getUpdates") {
		w.ok()
	}
	return res, err
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
