package localfaas

import (
	"errors"
	"fmt"
	"net/http"
)

// Errors the provider's methods wrap; the endpoints map them to an HTTP status in writeError.
var (
	// ErrNotFound: the function or secret does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: the function or secret already exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid: the request cannot be applied as given (an image that is not in stack.yml, a bad
	// name, an unknown namespace, too many replicas).
	ErrInvalid = errors.New("invalid request")
	// ErrStopped: the provider is shutting down.
	ErrStopped = errors.New("localfaas is shutting down")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// writeError is the one place where provider errors become HTTP statuses.
func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrExists):
		status = http.StatusConflict
	case errors.Is(err, ErrStopped):
		status = http.StatusServiceUnavailable
	}
	http.Error(w, err.Error(), status)
}
