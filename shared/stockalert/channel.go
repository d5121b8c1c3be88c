package stockalert

import (
	"strings"
	"time"
)

// Channel is a way alerts reach a user.
type Channel string

// The channels. Telegram needs a linked chat; e-mail goes to the account's address once the user
// confirmed it; a webhook is an https URL the user registered, to which alerts are POSTed signed
// (Standard Webhooks).
const (
	ChannelTelegram Channel = "telegram"
	ChannelEmail    Channel = "email"
	ChannelWebhook  Channel = "webhook"
)

// Channels lists every channel, in the order deliveries are attempted and shown.
var Channels = []Channel{ChannelTelegram, ChannelEmail, ChannelWebhook}

// ParseChannel returns the channel named s, or a *ValidationError naming field.
func ParseChannel(field, s string) (Channel, error) {
	for _, c := range Channels {
		if string(c) == s {
			return c, nil
		}
	}
	return "", Invalid(field, "%q is not a channel: use telegram, email or webhook", s)
}

// ChannelSettings is one user's setting of one channel.
type ChannelSettings struct {
	Channel Channel
	// Enabled: the user wants alerts there. Telegram is enabled by default (once a chat is linked);
	// e-mail and webhook are off until the user turns them on.
	Enabled bool
	// Target is where the channel delivers: the webhook's URL; for e-mail the account's address.
	Target string
	// Verified: for e-mail, the user confirmed the address (no mail but the verification goes to an
	// unconfirmed one); always true for the other channels.
	Verified bool
	// Secret is the webhook's signing secret (Standard Webhooks, "whsec_" + base64), shown to the user
	// once when the webhook is registered; empty for the other channels.
	Secret string
	// Failures counts the consecutive failed deliveries (webhook); DisabledReason says why the
	// channel was turned off by the system rather than by the user ("" otherwise).
	Failures       int
	DisabledReason string
	UpdatedAt      time.Time
}

// ParseChannels reads a list of channel names (a rule's "channels"): each known, none twice, at least
// one. It returns the channels in stockalert.Channels order, or a *ValidationError naming field.
func ParseChannels(field string, names []string) ([]Channel, error) {
	if len(names) == 0 {
		return nil, Invalid(field, "name at least one channel (telegram, email or webhook), or leave %s out for all", field)
	}
	seen := map[Channel]bool{}
	for _, n := range names {
		c, err := ParseChannel(field, n)
		if err != nil {
			return nil, err
		}
		if seen[c] {
			return nil, Invalid(field, "%q is named twice", n)
		}
		seen[c] = true
	}
	out := make([]Channel, 0, len(seen))
	for _, c := range Channels {
		if seen[c] {
			out = append(out, c)
		}
	}
	return out, nil
}

// JoinChannels writes channels as a comma-separated list ("email,webhook"), "" for none; SplitChannels
// reads it back, skipping unknown names (nil for "").
func JoinChannels(cs []Channel) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = string(c)
	}
	return strings.Join(parts, ",")
}

// SplitChannels reads a list written by JoinChannels.
func SplitChannels(s string) []Channel {
	if s == "" {
		return nil
	}
	var out []Channel
	for _, p := range strings.Split(s, ",") {
		if c, err := ParseChannel("channels", p); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// Includes reports whether c is among cs, a nil cs including every channel (a rule naming none).
func Includes(cs []Channel, c Channel) bool {
	if cs == nil {
		return true
	}
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}
