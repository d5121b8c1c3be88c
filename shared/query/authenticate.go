package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Authenticate checks a user's API token.
type Authenticate struct {
	Email string
	Token string
}

// CredentialReader returns the stored token hash of a user.
type CredentialReader interface {
	// Credentials returns the user's id and token hash, or stockalert.ErrNotFound.
	Credentials(ctx context.Context, email stockalert.Email) (userID int64, tokenHash string, err error)
}

// AuthenticateHandler answers Authenticate with the Principal, or stockalert.ErrUnauthorized when the
// token is missing or wrong or the user does not exist — the caller cannot tell which.
type AuthenticateHandler decorator.QueryHandler[Authenticate, Principal]

// NewAuthenticateHandler builds the handler over r.
func NewAuthenticateHandler(r CredentialReader, logger *slog.Logger, m *decorator.Metrics) AuthenticateHandler {
	return decorator.ApplyQuery[Authenticate, Principal](authenticateHandler{r}, logger, m)
}

type authenticateHandler struct{ r CredentialReader }

// unknownUserHash is compared against when the user does not exist, so that the answer takes the same
// time either way.
var unknownUserHash = stockalert.HashSecret("no such user")

func (h authenticateHandler) Handle(ctx context.Context, q Authenticate) (Principal, error) {
	email, err := stockalert.ParseEmail(q.Email)
	if err != nil || q.Token == "" {
		return Principal{}, stockalert.ErrUnauthorized
	}
	id, hash, err := h.r.Credentials(ctx, email)
	switch {
	case errors.Is(err, stockalert.ErrNotFound):
		stockalert.SecretMatches(unknownUserHash, q.Token)
		return Principal{}, stockalert.ErrUnauthorized
	case err != nil:
		return Principal{}, fmt.Errorf("authenticate %s: %w", email, err)
	case !stockalert.SecretMatches(hash, q.Token):
		return Principal{}, stockalert.ErrUnauthorized
	}
	return Principal{UserID: id, Email: email}, nil
}
