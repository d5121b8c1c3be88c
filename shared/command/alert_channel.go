package command

import (
	"context"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// AlertChannel delivers alerts over one channel beside Telegram (e-mail, webhook). SendAlert fans an
// alert out to the user's enabled channels (or those its rule names), one delivery per channel, each
// logged and claimed per (alert id, channel) so that a redelivered alert never sends twice on a
// channel and a channel that fails never blocks another.
type AlertChannel interface {
	// Channel names the channel.
	Channel() stockalert.Channel
	// Deliver sends the alert. It returns nil once the channel accepted it; an error wrapping
	// stockalert.ErrChannelOff when the channel is not configured on this server; one wrapping
	// stockalert.ErrUndeliverable when it never will be accepted (the address or URL refused it for
	// good); any other error is transient (the alert is delivered again later).
	Deliver(ctx context.Context, d ChannelDelivery) error
}

// ChannelDelivery is one alert on its way over one channel.
type ChannelDelivery struct {
	Alert stockalert.AlertEvent
	// User is the alert's owner (the e-mail address, the time zone).
	User stockalert.User
	// Settings are the user's settings of this channel (the webhook's URL and secret; for e-mail the
	// confirmed address).
	Settings stockalert.ChannelSettings
	// Location is the user's time zone, for the times the message shows.
	Location *time.Location
}
