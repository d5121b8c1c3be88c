package command

import (
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// ChannelClaim asks for the right to deliver alert EventID to user UserID over Channel (not Telegram,
// whose log is the notification log) for Lease.
type ChannelClaim struct {
	EventID string
	Channel stockalert.Channel
	UserID  int64
	Lease   time.Duration
}

// ChannelOutcome is the outcome of one delivery attempt of alert EventID over Channel: State is
// stockalert.Sent, Undeliverable or Failed; Error is the attempt's error as operators need it (the
// whole chain, at most MaxNotificationError bytes kept), Reason says in plain words, for the user,
// why an undeliverable alert is so (at most MaxNotificationReason bytes kept).
type ChannelOutcome struct {
	EventID string
	Channel stockalert.Channel
	UserID  int64
	State   stockalert.DeliveryState
	Error   string
	Reason  string
}
