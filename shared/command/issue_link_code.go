package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// IssueLinkCode replaces a user's Telegram link code (for a user who lost it or wants to link another
// chat). The caller generates the code, shows it once and passes its hash.
type IssueLinkCode struct {
	Email    string
	CodeHash string
}

// LinkCodeIssuer stores link codes.
type LinkCodeIssuer interface {
	// SetLinkCode stores the hash as the user's link code, or returns stockalert.ErrNotFound.
	SetLinkCode(ctx context.Context, email stockalert.Email, codeHash string) error
}

// IssueLinkCodeHandler handles IssueLinkCode: *stockalert.ValidationError, stockalert.ErrNotFound.
type IssueLinkCodeHandler decorator.CommandHandler[IssueLinkCode]

// NewIssueLinkCodeHandler builds the handler over store.
func NewIssueLinkCodeHandler(store LinkCodeIssuer, logger *slog.Logger, m *decorator.Metrics) IssueLinkCodeHandler {
	return decorator.ApplyCommand[IssueLinkCode](issueLinkCodeHandler{store}, logger, m)
}

type issueLinkCodeHandler struct{ store LinkCodeIssuer }

func (h issueLinkCodeHandler) Handle(ctx context.Context, cmd IssueLinkCode) error {
	email, err := stockalert.ParseEmail(cmd.Email)
	if err != nil {
		return err
	}
	if len(cmd.CodeHash) != 64 {
		return fmt.Errorf("issue link code for %s: a SHA-256 hex hash is required", email)
	}
	if err := h.store.SetLinkCode(ctx, email, cmd.CodeHash); err != nil {
		return fmt.Errorf("issue link code for %s: %w", email, err)
	}
	return nil
}
