package provider

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/stockalert/stockalert/localfaas/stack"
)

// Errors the implementations of this package's interfaces wrap; the endpoints map them to an HTTP
// status in writeError.
var (
	// ErrNotFound: the function or secret does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrExists: the function or secret already exists (409).
	ErrExists = errors.New("already exists")
	// ErrInvalid: the request cannot be applied as given (an image that is not in stack.yml without an
	// envProcess on PATH, a bad name, an unknown namespace, too many replicas) (400).
	ErrInvalid = errors.New("invalid request")
	// ErrUnavailable: the function is deployed but no process of it can take a request (503).
	ErrUnavailable = errors.New("unavailable")
	// ErrStopped: the provider is shutting down (503).
	ErrStopped = errors.New("localfaas is shutting down")
)

// Invalid returns an error wrapping ErrInvalid with the message.
func Invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// CheckNamespace accepts the empty namespace (the default) and openfaas-fn; for any other it returns
// an error wrapping ErrInvalid.
func CheckNamespace(ns string) error {
	if ns != "" && ns != stack.Namespace {
		return Invalid("namespace %q does not exist: localfaas has only %s", ns, stack.Namespace)
	}
	return nil
}

// writeError is the one place where errors become HTTP statuses.
func writeError(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), statusOf(err))
}

// statusOf is the HTTP status of an error of this package's kinds (500 for any other).
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrExists):
		return http.StatusConflict
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrStopped):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
