package webhook_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"code.dny.dev/ssrf"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/webhook"
)

// answer is what the receiver says to one request.
type answer struct {
	status     int
	retryAfter string
	hang       bool // wait until the client gives up
	location   string
}

// receiver is a user's webhook endpoint: it verifies each request's signature with the Standard
// Webhooks library, dedupes by webhook-id and answers from a script (then 200).
type receiver struct {
	t      *testing.T
	secret string
	srv    *httptest.Server

	mu       sync.Mutex
	script   []answer
	requests int
	times    []time.Time
	payloads map[string]webhook.Payload // by webhook-id: the deliveries accepted, deduplicated
	verified int
	bad      []error
}

func newReceiver(t *testing.T, tlsOn bool, script ...answer) *receiver {
	t.Helper()
	r := &receiver{t: t, secret: stockalert.NewWebhookSecret(), script: script, payloads: map[string]webhook.Payload{}}
	h := http.HandlerFunc(r.serve)
	if tlsOn {
		r.srv = httptest.NewTLSServer(h)
	} else {
		r.srv = httptest.NewServer(h)
	}
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	r.mu.Lock()
	r.requests++
	r.times = append(r.times, time.Now())
	var a answer
	if len(r.script) > 0 {
		a, r.script = r.script[0], r.script[1:]
	} else {
		a = answer{status: http.StatusOK}
	}
	wh, werr := standardwebhooks.NewWebhook(r.secret)
	if err == nil && werr == nil {
		err = wh.Verify(body, req.Header)
	} else if err == nil {
		err = werr
	}
	if err != nil {
		r.bad = append(r.bad, err)
		r.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	r.verified++
	if a.status >= 200 && a.status < 300 {
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			r.bad = append(r.bad, err)
		}
		r.payloads[req.Header.Get("webhook-id")] = p
	}
	r.mu.Unlock()
	if a.hang {
		<-req.Context().Done()
		return
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	if a.location != "" {
		w.Header().Set("Location", a.location)
	}
	w.WriteHeader(a.status)
}

func (r *receiver) stats() (requests, verified, accepted int, bad []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, r.verified, len(r.payloads), r.bad
}

func (r *receiver) tls() *tls.Config {
	return r.srv.Client().Transport.(*http.Transport).TLSClientConfig
}

func (r *receiver) settings(url string) stockalert.ChannelSettings {
	return stockalert.ChannelSettings{Channel: stockalert.ChannelWebhook, Enabled: true, Target: url, Secret: r.secret, Verified: true}
}

// fast is a configuration whose waits are short, reaching the local receiver.
func fast(r *receiver) webhook.Config {
	return webhook.Config{Timeout: 2 * time.Second, RetryWindow: 3 * time.Second, FirstRetry: 20 * time.Millisecond,
		MaxRetryAfter: time.Second, AllowPrivate: true, TLS: r.tls()}
}

func alert() stockalert.AlertEvent {
	pct := 2.5
	return stockalert.AlertEvent{
		EventID: "4f1c0d9e8a7b6c5d4e3f2a1b0c9d8e7f", Email: "ann@example.com", Ticker: "AAPL", Condition: stockalert.Above,
		Price: 205, Currency: "USD", Threshold: 200, Time: time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC),
		RuleID: "7", Kind: stockalert.KindAbove, PreviousClose: 200, DayChangePercent: &pct, Note: "sell half", RuleDone: true,
	}
}

func delivery(s stockalert.ChannelSettings) command.ChannelDelivery {
	return command.ChannelDelivery{Alert: alert(), User: stockalert.User{ID: 1, Email: "ann@example.com"}, Settings: s, Location: time.UTC}
}

func TestSignedPayloadVerifiesAndDedupes(t *testing.T) {
	r := newReceiver(t, true)
	ch := webhook.New(fast(r))
	require.Equal(t, stockalert.ChannelWebhook, ch.Channel())
	d := delivery(r.settings(r.srv.URL + "/hooks/stockalert"))
	require.NoError(t, ch.Deliver(t.Context(), d))
	require.NoError(t, ch.Deliver(t.Context(), d), "a redelivery is sent again, with the same webhook-id")

	requests, verified, accepted, bad := r.stats()
	require.Empty(t, bad)
	require.Equal(t, 2, requests)
	require.Equal(t, 2, verified)
	require.Equal(t, 1, accepted, "the receiver dedupes by webhook-id")
	p := r.payloads[alert().EventID]
	require.Equal(t, webhook.TypeAlertFired, p.Type)
	require.Equal(t, alert().EventID, p.Data.EventID)
	require.Equal(t, "7", p.Data.RuleID)
	require.Equal(t, "above", p.Data.Kind)
	require.Equal(t, "AAPL", p.Data.Ticker)
	require.Equal(t, "above", p.Data.Condition)
	require.InDelta(t, 200, p.Data.Level, 0)
	require.InDelta(t, 205, p.Data.Price, 0)
	require.Equal(t, "USD", p.Data.Currency)
	require.NotNil(t, p.Data.DayChange)
	require.InDelta(t, 5, *p.Data.DayChange, 1e-9)
	require.InDelta(t, 2.5, *p.Data.DayChangePercent, 1e-9)
	require.Equal(t, "sell half", p.Data.Note)
	require.True(t, p.Data.Time.Equal(alert().Time))
	require.True(t, p.Data.RuleDone)
}

func TestWrongSecretFailsVerification(t *testing.T) {
	r := newReceiver(t, true)
	s := r.settings(r.srv.URL)
	s.Secret = stockalert.NewWebhookSecret() // not the receiver's
	err := webhook.New(fast(r)).Deliver(t.Context(), delivery(s))
	require.ErrorIs(t, err, stockalert.ErrUndeliverable, "401 is final")
	_, verified, _, bad := r.stats()
	require.Zero(t, verified)
	require.Len(t, bad, 1)
	require.ErrorIs(t, bad[0], standardwebhooks.ErrNoMatchingSignature)
}

func TestServerErrorRetriedWithinTheWindow(t *testing.T) {
	r := newReceiver(t, true, answer{status: 500}, answer{status: 503})
	require.NoError(t, webhook.New(fast(r)).Deliver(t.Context(), delivery(r.settings(r.srv.URL))))
	requests, verified, accepted, bad := r.stats()
	require.Empty(t, bad)
	require.Equal(t, 3, requests)
	require.Equal(t, 3, verified, "each attempt is signed afresh")
	require.Equal(t, 1, accepted)
}

func TestRetryAfterHonoured(t *testing.T) {
	r := newReceiver(t, true, answer{status: http.StatusTooManyRequests, retryAfter: "1"})
	cfg := fast(r)
	cfg.FirstRetry = time.Millisecond // without Retry-After the retry would come at once
	require.NoError(t, webhook.New(cfg).Deliver(t.Context(), delivery(r.settings(r.srv.URL))))
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Len(t, r.times, 2)
	require.GreaterOrEqual(t, r.times[1].Sub(r.times[0]), 900*time.Millisecond, "waited the second the receiver asked for")
}

// A Retry-After of 0 or a date already past must not make the retries come at once: the backoff's
// pauses still apply, so a receiver answering that way every time is asked a handful of times in the
// window, not thousands.
func TestRetryAfterNowKeepsTheBackoff(t *testing.T) {
	for _, v := range []string{"0", "Thu, 01 Jan 1970 00:00:00 GMT"} {
		t.Run(v, func(t *testing.T) {
			script := make([]answer, 1000)
			for i := range script {
				script[i] = answer{status: http.StatusServiceUnavailable, retryAfter: v}
			}
			r := newReceiver(t, true, script...)
			cfg := fast(r)
			cfg.FirstRetry = 100 * time.Millisecond
			cfg.RetryWindow = time.Second
			err := webhook.New(cfg).Deliver(t.Context(), delivery(r.settings(r.srv.URL)))
			require.Error(t, err)
			require.NotErrorIs(t, err, stockalert.ErrUndeliverable)
			requests, _, _, _ := r.stats()
			// Pauses of at least 50, 100, 200, 400 ms (FirstRetry doubling, -50% jitter) fit 5 attempts
			// in the second at most.
			require.LessOrEqual(t, requests, 5, "retried without pausing")
		})
	}
}

func TestRetryAfterBeyondTheWindowIsTransient(t *testing.T) {
	r := newReceiver(t, true, answer{status: 503, retryAfter: "120"})
	cfg := fast(r)
	cfg.MaxRetryAfter = time.Hour
	cfg.RetryWindow = time.Second
	err := webhook.New(cfg).Deliver(t.Context(), delivery(r.settings(r.srv.URL)))
	require.Error(t, err)
	require.NotErrorIs(t, err, stockalert.ErrUndeliverable)
	require.Contains(t, err.Error(), "503")
	requests, _, _, _ := r.stats()
	require.Equal(t, 1, requests, "a wait past the window is not taken")
}

func TestTimeoutIsTransient(t *testing.T) {
	r := newReceiver(t, true, answer{hang: true}, answer{hang: true}, answer{hang: true}, answer{hang: true})
	cfg := fast(r)
	cfg.Timeout = 100 * time.Millisecond
	cfg.RetryWindow = 250 * time.Millisecond
	err := webhook.New(cfg).Deliver(t.Context(), delivery(r.settings(r.srv.URL)))
	require.Error(t, err)
	require.NotErrorIs(t, err, stockalert.ErrUndeliverable)
	requests, _, accepted, _ := r.stats()
	require.GreaterOrEqual(t, requests, 2, "timeouts are retried")
	require.Zero(t, accepted)
}

func TestGoneIsUndeliverable(t *testing.T) {
	r := newReceiver(t, true, answer{status: http.StatusGone})
	err := webhook.New(fast(r)).Deliver(t.Context(), delivery(r.settings(r.srv.URL)))
	require.ErrorIs(t, err, stockalert.ErrUndeliverable)
	require.Contains(t, err.Error(), "410")
	var werr *webhook.Error
	require.ErrorAs(t, err, &werr)
	require.Equal(t, "your endpoint answered 410 Gone", werr.UserReason())
	requests, _, _, _ := r.stats()
	require.Equal(t, 1, requests, "not retried")
}

func TestRedirectNotFollowed(t *testing.T) {
	target := newReceiver(t, true)
	r := newReceiver(t, true, answer{status: http.StatusTemporaryRedirect, location: target.srv.URL})
	err := webhook.New(fast(r)).Deliver(t.Context(), delivery(r.settings(r.srv.URL)))
	require.ErrorIs(t, err, stockalert.ErrUndeliverable)
	require.Contains(t, err.Error(), "redirects are not followed")
	requests, _, _, _ := target.stats()
	require.Zero(t, requests, "the redirect's target was never asked")
}

// TestSSRFRefusedAtConnect resolves the URL's host name to special-purpose addresses: the guard refuses
// them on the resolved address, before any connection is made.
func TestSSRFRefusedAtConnect(t *testing.T) {
	r := newReceiver(t, true)
	port := r.srv.Listener.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	for _, addr := range []string{"127.0.0.1", "10.1.2.3", "169.254.169.254", "100.64.0.1", "192.168.1.1", "::1", "fd00:ec2::254", "fe80::1", "::ffff:127.0.0.1"} {
		t.Run(addr, func(t *testing.T) {
			cfg := fast(r)
			cfg.AllowPrivate = false
			cfg.Timeout = 500 * time.Millisecond
			resolved := 0
			cfg.LookupNetIP = func(context.Context, string, string) ([]netip.Addr, error) {
				resolved++
				return []netip.Addr{netip.MustParseAddr(addr)}, nil
			}
			url := "https://example.com:" + itoa(port) + "/hook"
			err := webhook.New(cfg).Deliver(t.Context(), delivery(r.settings(url)))
			require.ErrorIs(t, err, stockalert.ErrUndeliverable)
			require.ErrorIs(t, err, ssrf.ErrProhibitedIP)
			require.Equal(t, 1, resolved, "refused at once, not retried")
		})
	}
	requests, _, _, _ := r.stats()
	require.Zero(t, requests)

	t.Run("localhost by name", func(t *testing.T) {
		cfg := fast(r)
		cfg.AllowPrivate = false
		err := webhook.New(cfg).Deliver(t.Context(), delivery(r.settings(strings.Replace(r.srv.URL, "127.0.0.1", "localhost", 1))))
		require.ErrorIs(t, err, ssrf.ErrProhibitedIP)
	})

	t.Run("allowed by the operator", func(t *testing.T) {
		cfg := fast(r) // AllowPrivate
		cfg.LookupNetIP = func(context.Context, string, string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		require.NoError(t, webhook.New(cfg).Deliver(t.Context(), delivery(r.settings("https://example.com:"+itoa(port)+"/hook"))))
		requests, verified, _, _ := r.stats()
		require.Equal(t, 1, requests)
		require.Equal(t, 1, verified)
	})
}

func TestHTTPOnlyOnLoopbackWhenAllowed(t *testing.T) {
	r := newReceiver(t, false)
	cfg := fast(r)
	cfg.AllowPrivate = false
	err := webhook.New(cfg).Deliver(t.Context(), delivery(r.settings(r.srv.URL)))
	require.ErrorIs(t, err, stockalert.ErrUndeliverable)
	require.Contains(t, err.Error(), "https")

	cfg.AllowHTTPLoopback = true
	require.NoError(t, webhook.New(cfg).Deliver(t.Context(), delivery(r.settings(r.srv.URL))))
	_, verified, accepted, _ := r.stats()
	require.Equal(t, 1, verified)
	require.Equal(t, 1, accepted)

	// The loopback exception is for loopback only.
	cfg.LookupNetIP = func(context.Context, string, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("10.0.0.1")}, nil
	}
	err = webhook.New(cfg).Deliver(t.Context(), delivery(r.settings("https://example.com/hook")))
	require.ErrorIs(t, err, ssrf.ErrProhibitedIP)
}

func TestNoticesNotSent(t *testing.T) {
	r := newReceiver(t, true)
	d := delivery(r.settings(r.srv.URL))
	d.Alert = stockalert.AlertEvent{EventID: "n1", Email: "ann@example.com", Condition: stockalert.QuietSummary, Time: time.Now()}
	require.NoError(t, webhook.New(fast(r)).Deliver(t.Context(), d))
	d.Alert = stockalert.AlertEvent{EventID: "n2", Email: "ann@example.com", Ticker: "ZZZQ", Condition: stockalert.SymbolDropped, Time: time.Now()}
	require.NoError(t, webhook.New(fast(r)).Deliver(t.Context(), d))
	requests, _, _, _ := r.stats()
	require.Equal(t, 1, requests, "the quiet-hours summary is not sent; a dropped symbol is")
	require.Equal(t, webhook.TypeSymbolDropped, r.payloads["n2"].Type)
}

func TestNoWebhookIsUndeliverable(t *testing.T) {
	err := webhook.New(webhook.Config{}).Deliver(t.Context(), delivery(stockalert.ChannelSettings{Channel: stockalert.ChannelWebhook}))
	require.ErrorIs(t, err, stockalert.ErrUndeliverable)
	require.False(t, errors.Is(err, stockalert.ErrChannelOff))
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }
