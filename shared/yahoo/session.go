package yahoo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// errHandshakeDeferred: a recent handshake failed and its backoff has not run out; the caller prices
// with chart requests meanwhile.
var errHandshakeDeferred = errors.New("cookie and crumb handshake deferred after a failure")

// session holds the cookie and crumb the v7 quote endpoint wants (the handshake of yahoo-finance2's
// src/lib/getCrumb.ts and yfinance's yfinance/data.py: a cookie from fc.yahoo.com's answer, then
// GET query1.finance.yahoo.com/v1/test/getcrumb with it, whose plain-text body is the crumb, sent as
// the crumb query parameter beside the cookie).
type session struct {
	cookieURL, crumbURL string
	now                 func() time.Time

	// lock guards the fields below; it is held through a handshake. A channel rather than a
	// sync.Mutex so that a caller waiting for another's handshake gives up when its ctx ends.
	lock chan struct{}
	// cookie is the Cookie header (name=value pairs), crumb its crumb; both empty until a handshake.
	cookie, crumb string
	// expires is when the earliest cookie expires (zero: no expiry given).
	expires time.Time
	// retryAt is when a handshake may be tried again after a failure.
	retryAt time.Time
	backoff *backoff.ExponentialBackOff
}

func newSession(cookieURL, crumbURL string, retry time.Duration) *session {
	return &session{cookieURL: cookieURL, crumbURL: crumbURL, now: time.Now, lock: make(chan struct{}, 1),
		backoff: &backoff.ExponentialBackOff{InitialInterval: retry, RandomizationFactor: 0.1, Multiplier: 2,
			MaxInterval: max(retry, maxHandshakeRetry)}}
}

// credentials returns the cookie header and crumb, making the handshake when there is none (or the
// cookie expired). Concurrent callers wait for one handshake, each no longer than its ctx. After a
// failed handshake no other is tried before its backoff (Config.HandshakeRetry, doubling) has passed:
// until then it returns an error wrapping errHandshakeDeferred at once. Errors: the handshake's
// failure, ctx's error (also when ctx ends while another caller's handshake runs).
func (c *Client) credentials(ctx context.Context) (cookie, crumb string, err error) {
	s := c.session
	select {
	case s.lock <- struct{}{}:
		defer func() { <-s.lock }()
	case <-ctx.Done():
		return "", "", fmt.Errorf("wait for the cookie and crumb handshake: %w", context.Cause(ctx))
	}
	now := s.now()
	if s.crumb != "" && (s.expires.IsZero() || now.Before(s.expires)) {
		return s.cookie, s.crumb, nil
	}
	if now.Before(s.retryAt) {
		return "", "", fmt.Errorf("%w until %s", errHandshakeDeferred, s.retryAt.UTC().Format(time.RFC3339))
	}
	cookie, expires, crumb, err := c.handshake(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return "", "", err // the caller gave up: no verdict on Yahoo
		}
		wait := s.backoff.NextBackOff()
		s.retryAt = now.Add(wait)
		c.m.handshakes.WithLabelValues("failed").Inc()
		c.logger.WarnContext(ctx, "yahoo cookie and crumb handshake failed: quotes go by chart requests until the next try",
			"err", err, "next_try_in", wait.Round(time.Second).String())
		return "", "", err
	}
	s.backoff.Reset()
	s.retryAt = time.Time{}
	s.cookie, s.crumb, s.expires = cookie, crumb, expires
	c.m.handshakes.WithLabelValues("ok").Inc()
	return cookie, crumb, nil
}

// refused is told that the quote endpoint refused crumb (401): unless another caller has already
// replaced it, the next credentials call makes a new handshake at once.
func (c *Client) refused(crumb string) {
	s := c.session
	s.lock <- struct{}{}
	defer func() { <-s.lock }()
	if s.crumb == crumb {
		s.cookie, s.crumb, s.expires = "", "", time.Time{}
	}
}

// failedAgain is told that a fresh handshake's crumb was refused too: the handshake does not work,
// and waits for its backoff like a failed one.
func (c *Client) failedAgain(ctx context.Context, crumb string, why error) {
	s := c.session
	s.lock <- struct{}{}
	defer func() { <-s.lock }()
	if s.crumb == crumb {
		s.cookie, s.crumb, s.expires = "", "", time.Time{}
	}
	if s.now().Before(s.retryAt) {
		return
	}
	wait := s.backoff.NextBackOff()
	s.retryAt = s.now().Add(wait)
	c.m.handshakes.WithLabelValues("failed").Inc()
	c.logger.WarnContext(ctx, "yahoo refused a fresh crumb: quotes go by chart requests until the next try",
		"err", why, "next_try_in", wait.Round(time.Second).String())
}

// handshake gets a cookie from the cookie URL (the Set-Cookie of its first answer, whatever its status;
// redirects are not followed) and the crumb for it. Errors: no cookie (a redirect to Yahoo's EU consent
// flow, guce.yahoo.com, is named: this client does not submit consent forms), a crumb request that
// fails or answers anything but a short plain-text crumb, ctx's error.
func (c *Client) handshake(ctx context.Context) (cookie string, expires time.Time, crumb string, err error) {
	s := c.session
	resp, err := c.get(ctx, c.noRedirect, s.cookieURL, http.Header{"Accept": {"text/html,application/xhtml+xml,application/xml"}})
	if err != nil {
		return "", time.Time{}, "", fmt.Errorf("get cookie from %s: %w", s.cookieURL, err)
	}
	now := s.now()
	var pairs []string
	for _, ck := range (&http.Response{Header: resp.header}).Cookies() {
		if ck.Value == "" || ck.MaxAge < 0 {
			continue
		}
		pairs = append(pairs, ck.Name+"="+ck.Value)
		exp := ck.Expires
		if ck.MaxAge > 0 {
			exp = now.Add(time.Duration(ck.MaxAge) * time.Second)
		}
		if !exp.IsZero() && (expires.IsZero() || exp.Before(expires)) {
			expires = exp
		}
	}
	if len(pairs) == 0 {
		if loc := resp.header.Get("Location"); strings.Contains(loc, "guce.yahoo") || strings.Contains(loc, "consent.yahoo") {
			return "", time.Time{}, "", fmt.Errorf("get cookie from %s: redirected to the EU consent flow (%s), which this client does not follow", s.cookieURL, loc)
		}
		return "", time.Time{}, "", fmt.Errorf("get cookie from %s: status %d without Set-Cookie", s.cookieURL, resp.status)
	}
	cookie = strings.Join(pairs, "; ")

	resp, err = c.get(ctx, c.http, s.crumbURL, http.Header{"Accept": {"*/*"}, "Cookie": {cookie}})
	if err != nil {
		return "", time.Time{}, "", fmt.Errorf("get crumb from %s: %w", s.crumbURL, err)
	}
	crumb = strings.TrimSpace(string(resp.body))
	if resp.status != http.StatusOK {
		return "", time.Time{}, "", fmt.Errorf("get crumb from %s: status %d: %.100s", s.crumbURL, resp.status, crumb)
	}
	if crumb == "" || len(crumb) > 64 || strings.ContainsAny(crumb, "<> \t\r\n") {
		return "", time.Time{}, "", fmt.Errorf("get crumb from %s: %q is not a crumb", s.crumbURL, fmt.Sprintf("%.100s", crumb))
	}
	return cookie, expires, crumb, nil
}
