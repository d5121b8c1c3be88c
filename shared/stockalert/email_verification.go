package stockalert

import (
	"errors"
	"time"
)

// EmailVerification is one outstanding code that confirms an e-mail address: the link in the
// verification mail carries it, and the bot accepts it (/verify <code>). Only its SHA-256 hash is
// stored (hex, 64 characters); it is valid until ExpiresAt and once.
type EmailVerification struct {
	CodeHash  string
	UserID    int64
	Email     Email
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ErrTooManyVerifications says the address was sent as many verification mails as the hourly limit allows;
// try again later. Nothing was sent.
var ErrTooManyVerifications = errors.New("too many verification mails to this address")
