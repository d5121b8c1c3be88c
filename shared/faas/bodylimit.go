package faas

import (
	"errors"
	"fmt"
)

// ErrBodyTooLarge is the cause of every 413 a function answers: a request body over max_body_bytes (or
// over an edge's own limit). The errors that carry it are *BodyTooLargeError.
var ErrBodyTooLarge = errors.New("request body too large")

// BodyTooLargeError is a request body over Limit bytes. It matches ErrBodyTooLarge (errors.Is) and
// wraps Err, the *http.MaxBytesError that caught it when there is one. Its message is the one text of
// a 413, for the client to read: "request body too large: larger than <Limit> bytes".
type BodyTooLargeError struct {
	Limit int64
	Err   error
}

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("%s: larger than %d bytes", ErrBodyTooLarge, e.Limit)
}

// Is reports whether target is ErrBodyTooLarge.
func (e *BodyTooLargeError) Is(target error) bool { return target == ErrBodyTooLarge } //nolint:errorlint // a sentinel compared in Is

// Unwrap returns Err.
func (e *BodyTooLargeError) Unwrap() error { return e.Err }
