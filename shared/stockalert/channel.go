package stockalert

import "time"

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
