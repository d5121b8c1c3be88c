package stockalert

// DeliveryState is where an alert stands in the notification log.
type DeliveryState string

// Delivery states. Sent and Undeliverable are final: a redelivered alert in either state is not sent
// again. Failed alerts are retried. Sending is the claim a delivery takes before it calls Telegram:
// while its lease runs no other delivery of the alert sends it; an expired one (the process died) may
// be taken over.
const (
	Sent          DeliveryState = "sent"
	Undeliverable DeliveryState = "undeliverable"
	Failed        DeliveryState = "failed"
	Sending       DeliveryState = "sending"
	// Held: the alert fired during the user's quiet hours and waits, not sent, for the one summary
	// message sent when they end (then it is Sent). Not final, but a redelivery does not send it.
	Held DeliveryState = "held"
)

// Final reports whether no further delivery attempt should be made.
func (s DeliveryState) Final() bool { return s == Sent || s == Undeliverable }
