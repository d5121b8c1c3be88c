package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"code.dny.dev/ssrf"
	"github.com/cenkalti/backoff/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Config sets the channel up. The zero value of a duration takes its default.
type Config struct {
	// Timeout bounds one request, from connecting to reading the answer's headers (default 5s).
	Timeout time.Duration
	// RetryWindow bounds the retries within one Deliver call (default 15s): a retry whose wait would
	// end after it is not made and Deliver answers a transient error.
	RetryWindow time.Duration
	// FirstRetry is the first pause between attempts, growing 2× with ±50% jitter (default 1s).
	FirstRetry time.Duration
	// MaxRetryAfter caps the wait a receiver's Retry-After asks for (default 10s); a Retry-After
	// shorter than FirstRetry is not taken (the backoff's pause applies).
	MaxRetryAfter time.Duration
	// AllowPrivate lets requests reach private, loopback, link-local and other special-purpose
	// addresses (development only).
	AllowPrivate bool
	// AllowHTTPLoopback accepts http:// URLs whose host is loopback, and lets connections to loopback
	// addresses through (development only).
	AllowHTTPLoopback bool
	// TLS is the client's TLS configuration (nil: the system's roots).
	TLS *tls.Config
	// LookupNetIP resolves a host name (default net.DefaultResolver.LookupNetIP); tests give their own.
	LookupNetIP func(ctx context.Context, network, host string) ([]netip.Addr, error)
	// Now is the clock of the webhook-timestamp header (default time.Now).
	Now func() time.Time
}

// Channel delivers alerts to webhooks; safe for concurrent use.
type Channel struct {
	cfg    Config
	client *http.Client
}

var _ command.AlertChannel = (*Channel)(nil)

// New returns the channel.
func New(cfg Config) *Channel {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.RetryWindow <= 0 {
		cfg.RetryWindow = 15 * time.Second
	}
	if cfg.FirstRetry <= 0 {
		cfg.FirstRetry = time.Second
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = 10 * time.Second
	}
	if cfg.LookupNetIP == nil {
		cfg.LookupNetIP = net.DefaultResolver.LookupNetIP
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		var opts []ssrf.Option
		opts = append(opts, ssrf.WithAnyPort())
		if cfg.AllowHTTPLoopback {
			opts = append(opts,
				ssrf.WithAllowedV4Prefixes(netip.MustParsePrefix("127.0.0.0/8")),
				ssrf.WithAllowedV6Prefixes(netip.MustParsePrefix("::1/128")))
		}
		dialer.Control = ssrf.New(opts...).Safe
	}
	transport := &http.Transport{
		DialContext:           guardedDial(dialer, cfg.LookupNetIP),
		TLSClientConfig:       cfg.TLS,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
		// No Proxy: a proxy would connect for us, past the guard.
	}
	return &Channel{cfg: cfg, client: &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		// Redirects are not followed: the 3xx is the answer (final), so a redirect cannot lead past the
		// URL the user registered.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// guardedDial resolves the host with lookup and dials its addresses in turn, each checked by dialer's
// Control function (the SSRF guard) on the address actually connected to.
func guardedDial(dialer *net.Dialer, lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("split %q: %w", addr, err)
		}
		var ips []netip.Addr
		if ip, err := netip.ParseAddr(host); err == nil {
			ips = []netip.Addr{ip}
		} else if ips, err = lookup(ctx, "ip", host); err != nil {
			return nil, fmt.Errorf("resolve %s: %w", host, err)
		}
		var errs []error
		for _, ip := range ips {
			conn, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
			if err == nil {
				return conn, nil
			}
			errs = append(errs, err)
		}
		if len(errs) == 0 {
			return nil, fmt.Errorf("resolve %s: no address", host)
		}
		return nil, errors.Join(errs...)
	}
}

// Channel names the channel: stockalert.ChannelWebhook.
func (c *Channel) Channel() stockalert.Channel { return stockalert.ChannelWebhook }

// Deliver POSTs d.Alert to d.Settings.Target signed with d.Settings.Secret (see the package doc). It
// returns nil when the receiver answered 2xx (or the alert is a notice webhooks do not get); an error
// wrapping stockalert.ErrUndeliverable when no webhook is set, the URL or secret is malformed, the
// address is refused by the SSRF guard, or the receiver answered 3xx or a 4xx other than 408 and 429;
// otherwise, once the retry window is spent or ctx ends, a transient error.
func (c *Channel) Deliver(ctx context.Context, d command.ChannelDelivery) error {
	if d.Settings.Target == "" || d.Settings.Secret == "" {
		return fail("no webhook URL is registered", fmt.Errorf("webhook: no URL registered: %w", stockalert.ErrUndeliverable))
	}
	target, err := stockalert.ParseWebhookURL("url", d.Settings.Target, c.cfg.AllowHTTPLoopback)
	if err != nil {
		return fail("the webhook URL is not accepted (https is required)", fmt.Errorf("webhook: %w: %w", err, stockalert.ErrUndeliverable))
	}
	payload, send := NewPayload(d.Alert)
	if !send {
		return nil
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return fail("the alert could not be encoded", fmt.Errorf("webhook: encode the payload: %w: %w", err, stockalert.ErrUndeliverable))
	}
	signer, err := standardwebhooks.NewWebhook(d.Settings.Secret)
	if err != nil {
		return fail("the webhook's signing secret is malformed: register the webhook again",
			fmt.Errorf("webhook: the signing secret is malformed: %w", stockalert.ErrUndeliverable))
	}
	attempts := 0
	_, err = backoff.Retry(ctx, func() (struct{}, error) {
		attempts++
		return struct{}{}, c.post(ctx, target, d.Alert.EventID, body, signer)
	},
		backoff.WithBackOff(&backoff.ExponentialBackOff{
			InitialInterval: c.cfg.FirstRetry, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: c.cfg.RetryWindow,
		}),
		backoff.WithMaxElapsedTime(c.cfg.RetryWindow))
	if err != nil {
		return fmt.Errorf("webhook: POST %s (%d attempts): %w", redact(target), attempts, err)
	}
	return nil
}

// post makes one attempt. Errors: backoff.Permanent wrapping stockalert.ErrUndeliverable (final), one
// carrying a *backoff.RetryAfterError (the receiver's Retry-After), or a plain one (retry).
func (c *Channel) post(ctx context.Context, target, msgID string, body []byte, signer *standardwebhooks.Webhook) error {
	now := c.cfg.Now()
	sig, err := signer.Sign(msgID, now, body)
	if err != nil {
		return backoff.Permanent(fail("the alert could not be signed", fmt.Errorf("sign: %w: %w", err, stockalert.ErrUndeliverable)))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return backoff.Permanent(fail("the webhook URL is not accepted", fmt.Errorf("build the request: %w: %w", err, stockalert.ErrUndeliverable)))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stockalert-webhook/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, msgID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := c.client.Do(req)
	if err != nil {
		if refused(err) {
			return backoff.Permanent(fail("the webhook's address is a private or local network address, which is not allowed",
				fmt.Errorf("the address is not allowed (private, loopback, link-local or another special-purpose range): %w: %w",
					err, stockalert.ErrUndeliverable)))
		}
		if netErr, ok := errors.AsType[net.Error](err); ok && netErr.Timeout() {
			return fail(fmt.Sprintf("your endpoint did not answer within %s", c.cfg.Timeout), err)
		}
		return fail("your endpoint could not be reached", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		err := fmt.Errorf("the receiver answered %s", resp.Status)
		// A Retry-After shorter than the first pause (0, a date already past) keeps the backoff's
		// pause: taken as is, it would make the retries come back to back for the whole window.
		if wait, ok := retryAfter(resp.Header.Get("Retry-After"), now, c.cfg.MaxRetryAfter); ok && wait >= c.cfg.FirstRetry {
			err = fmt.Errorf("%w: %w", err, &backoff.RetryAfterError{Duration: wait})
		}
		return fail("your endpoint answered "+resp.Status, err)
	case code >= 300 && code < 400:
		return backoff.Permanent(fail("your endpoint answered "+resp.Status+", a redirect, which is not followed",
			fmt.Errorf("the receiver answered %s (redirects are not followed): %w", resp.Status, stockalert.ErrUndeliverable)))
	default:
		return backoff.Permanent(fail("your endpoint answered "+resp.Status,
			fmt.Errorf("the receiver answered %s: %w", resp.Status, stockalert.ErrUndeliverable)))
	}
}

// Error is a failed delivery. Its message is for operators (the whole chain); UserReason says in plain
// words, for the user, what went wrong ("your endpoint answered 410 Gone"); it unwraps to the cause
// (stockalert.ErrUndeliverable when final).
type Error struct {
	reason string
	err    error
}

func fail(reason string, err error) error { return &Error{reason: reason, err: err} }

func (e *Error) Error() string { return e.err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.err }

// UserReason says in plain words what went wrong (command.UserReason).
func (e *Error) UserReason() string { return e.reason }

// refused reports whether err is the SSRF guard's refusal.
func refused(err error) bool {
	return errors.Is(err, ssrf.ErrProhibitedIP) || errors.Is(err, ssrf.ErrProhibitedPort) ||
		errors.Is(err, ssrf.ErrProhibitedNetwork) || errors.Is(err, ssrf.ErrInvalidHostPort)
}

// retryAfter reads a Retry-After header (RFC 9110 §10.2.3: delay-seconds or an HTTP-date), capped at
// maxWait; false when absent or unreadable.
func retryAfter(v string, now time.Time, maxWait time.Duration) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var wait time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		wait = time.Duration(min(secs, int64(maxWait/time.Second)+1)) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		wait = t.Sub(now)
	} else {
		return 0, false
	}
	return max(0, min(wait, maxWait)), true
}

// redact returns the URL without its query (which may carry a receiver's token) for error messages.
func redact(target string) string {
	if before, _, found := strings.Cut(target, "?"); found {
		return before + "?…"
	}
	return target
}
