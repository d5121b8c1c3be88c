// Package webhook is the signed-webhook alert channel (command.AlertChannel, stockalert.ChannelWebhook):
// each alert is POSTed as JSON to the URL the user registered, signed following the Standard Webhooks
// specification (https://www.standardwebhooks.com, its Go library
// github.com/standard-webhooks/standard-webhooks/libraries/go) with the user's secret.
//
// # Request
//
//	POST <the user's URL>
//	Content-Type: application/json
//	User-Agent: stockalert-webhook/1
//	webhook-id: <the alert's event id: the same on every retry and redelivery, so receivers dedupe>
//	webhook-timestamp: <Unix seconds of this attempt>
//	webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>" keyed with
//	                   the base64-decoded secret after its "whsec_" prefix>
//
// The body follows the specification's recommended envelope, {"type", "timestamp", "data"}; see
// Payload and AlertData for the fields. Types: "alert.fired" (a rule fired) and "symbol.dropped" (a
// watched ticker was removed because the quote source does not know it). Other notices on the alert
// path (the quiet-hours summary, the webhook-disabled notice) are not sent to webhooks.
//
// # Outcome
//
// 2xx accepts. 408, 429, 5xx, timeouts and connection errors are retried within one Deliver call
// with exponential backoff for at most Config.RetryWindow, waiting a Retry-After the receiver gives
// (seconds or an HTTP date, capped at Config.MaxRetryAfter; one shorter than Config.FirstRetry, such
// as 0 or a date already past, leaves the backoff's pause); after that the error is transient (the
// alert is delivered again later). Redirects are not followed: 3xx and the other 4xx (410 Gone…) are
// final (stockalert.ErrUndeliverable).
//
// # SSRF guard
//
// Unless Config.AllowPrivate is set, the connection is refused, at connect time on the resolved
// address (a net.Dialer Control function, so a DNS answer changed between a check and the connection
// cannot pass), when the address is in a special-purpose range of the IANA IPv4 or IPv6 registries or
// outside IPv6 global unicast: private (RFC 1918), loopback, link-local (cloud metadata
// 169.254.169.254), CGNAT (RFC 6598), unique-local (fc00::/7, AWS's fd00:ec2::254), multicast,
// documentation… — the lists of code.dny.dev/ssrf. Such a refusal is final. https is required; http
// only to a loopback host with Config.AllowHTTPLoopback (development), which also lets connections to
// loopback addresses through.
package webhook
