package stockalert

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
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
// https with a host (an IP literal or a valid DNS name, stored in lower case and IDNA ASCII form), a
// port, when given, from 1 to 65535, no user name or password, no fragment and at most
// MaxWebhookURLLength bytes; http is accepted only when allowHTTPLoopback is set and the host is "localhost" or a loopback IP
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
	if err := checkWebhookHost(field, u); err != nil {
		return "", err
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

// checkWebhookHost refuses a port outside 1–65535 and a host that is neither an IP literal nor a name
// DNS can hold (RFC 1035 §2.3.4: labels of 1 to 63 letters, digits, hyphens, not beginning or ending
// with a hyphen, at most 253 characters; underscores are let through, as resolvers do). It
// normalises u's host: lower case, an internationalised name in its ASCII form (IDNA, RFC 5891).
func checkWebhookHost(field string, u *url.URL) error {
	host, port := u.Hostname(), u.Port()
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return Invalid(field, "has the port %q: a port is 1 to 65535", port)
		}
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	name := strings.ToLower(host)
	if !isASCII(name) {
		ascii, err := idna.Lookup.ToASCII(name)
		if err != nil {
			return Invalid(field, "has no valid host name")
		}
		name = ascii
	}
	labels := strings.TrimSuffix(name, ".")
	if labels == "" || len(labels) > 253 {
		return Invalid(field, "has no valid host name")
	}
	for label := range strings.SplitSeq(labels, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.IndexFunc(label, notHostChar) >= 0 {
			return Invalid(field, "has no valid host name")
		}
	}
	u.Host = name
	if port != "" {
		u.Host = net.JoinHostPort(name, port)
	}
	return nil
}

// notHostChar reports whether r may not appear in a host name label (lower case ASCII).
func notHostChar(r rune) bool {
	return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_'
}
