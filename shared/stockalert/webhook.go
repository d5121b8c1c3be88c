package stockalert

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/url"
	"strings"
)

// MaxWebhookURLLength bounds a webhook's URL (the column user_channels.target holds 2048).
const MaxWebhookURLLength = 2048

// WebhookDisabled is not a breach but a notice on the alert path: the user's webhook was turned off
// after too many consecutive failed deliveries (ChannelSettings.DisabledReason says which). Note
// carries that reason; Ticker, Price and Threshold are empty.
const WebhookDisabled Condition = "webhook-disabled"

// NewWebhookSecret returns a new signing secret in the Standard Webhooks form: "whsec_" followed by the
// standard base64 of 32 random bytes (the specification asks for 24 to 64).
func NewWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// ParseWebhookURL checks a webhook URL and returns it normalised (url.URL.String). It must be absolute
// https with a host, no user name or password, no fragment and at most MaxWebhookURLLength bytes;
// http is accepted only when allowHTTPLoopback is set and the host is "localhost" or a loopback IP
// literal (development). Errors are *ValidationError naming field. Where the host resolves is checked
// when the request is sent (the webhook adapter's SSRF guard), not here.
func ParseWebhookURL(field, raw string, allowHTTPLoopback bool) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", Invalid(field, "is required: the https URL alerts are POSTed to")
	}
	if len(raw) > MaxWebhookURLLength {
		return "", Invalid(field, "is longer than %d characters", MaxWebhookURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return "", Invalid(field, "is not an absolute URL such as https://example.com/hooks/stockalert")
	}
	if u.User != nil {
		return "", Invalid(field, "must not carry a user name or password")
	}
	if u.Fragment != "" {
		return "", Invalid(field, "must not have a fragment (#…)")
	}
	host := u.Hostname()
	if host == "" {
		return "", Invalid(field, "has no host")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !allowHTTPLoopback || !isLoopbackHost(host) {
			return "", Invalid(field, "must use https")
		}
	default:
		return "", Invalid(field, "must use https")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	return u.String(), nil
}

// isLoopbackHost reports whether host is "localhost" or a loopback IP literal.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
