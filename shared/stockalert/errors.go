package stockalert

import (
	"errors"
	"fmt"
)

// Sentinel errors shared by every layer. Adapters wrap them with context; edges map them to a status
// (HTTP), a reply (Telegram) or an acknowledgement (Kafka) in one place each.
var (
	// ErrNotFound: the user, subscription, price or link code does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change collides with existing state (an e-mail already registered, a PATCH of
	// the ticker for a user who watches several tickers).
	ErrConflict = errors.New("conflict")
	// ErrUnauthorized: the credentials are missing or wrong. It never says whether the user exists.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrIdempotencyKeyReused: an idempotency key was sent again with a different payload.
	ErrIdempotencyKeyReused = errors.New("idempotency key reused with a different request")
	// ErrUndeliverable: a notification can never be delivered (no chat linked, the bot was blocked);
	// retrying will not help.
	ErrUndeliverable = errors.New("undeliverable")
	// ErrChannelOff: the channel is not configured on this server (no Telegram bot token); a
	// notification for it is undeliverable (it wraps ErrUndeliverable too) and says so.
	ErrChannelOff = errors.New("channel not configured")
	// ErrUnpublishable: the broker refused an outbox message in a way retrying cannot heal (too large
	// for the topic, an invalid topic name or record): the message is parked for an operator instead of
	// blocking the messages queued after it. A missing authorisation for the topic is not one: fixing the
	// ACL heals it, so those messages stay queued.
	ErrUnpublishable = errors.New("unpublishable")
	// ErrInFlight: another delivery of the same alert is under way (it holds the alert's claim in the
	// notification log); try again later, when it will have finished or its claim will have expired.
	ErrInFlight = errors.New("another delivery of this alert is in flight")
)

// ValidationError reports input that breaks a domain rule. Field names the offending input as the
// client spelled it (for example "high_value"); nothing is written when it is returned.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason)
}

// Invalid returns a *ValidationError for field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// AsValidation reports whether err is or wraps a *ValidationError and returns it.
func AsValidation(err error) (*ValidationError, bool) {
	var v *ValidationError
	ok := errors.As(err, &v)
	return v, ok
}

// ConflictError is an ErrConflict that names the field whose value collides (for example "email").
type ConflictError struct {
	Field  string
	Reason string
}

func (e *ConflictError) Error() string { return e.Reason + ": " + ErrConflict.Error() }

// Is makes errors.Is(err, ErrConflict) true for a *ConflictError.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// IsClientError reports whether err was caused by the request or the state it met (validation, not
// found, conflict, unauthorized, reused idempotency key) rather than by a fault of the system.
func IsClientError(err error) bool {
	if _, ok := AsValidation(err); ok {
		return true
	}
	for _, target := range []error{ErrNotFound, ErrConflict, ErrUnauthorized, ErrIdempotencyKeyReused} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// NotFoundError is an ErrNotFound with a Reason its caller may read as is ("no rule on NVDA", "no
// such rule"): the edges show Reason, never the wrap chain around it.
type NotFoundError struct {
	Reason string
}

func (e *NotFoundError) Error() string { return e.Reason + ": " + ErrNotFound.Error() }

// Is makes errors.Is(err, ErrNotFound) true for a *NotFoundError.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// NotFound returns a *NotFoundError with the reason.
func NotFound(format string, args ...any) error {
	return &NotFoundError{Reason: fmt.Sprintf(format, args...)}
}
