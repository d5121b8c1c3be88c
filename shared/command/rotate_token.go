package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// RotateToken gives the user linked to a Telegram chat a new API token and revokes the old one (the
// bot's /token: the way back in after a lost token). The caller generates the token, shows it once,
// and passes only its hash.
type RotateToken struct {
	ChatID    int64
	TokenHash string
}

// ChatTokenRotator replaces API tokens by chat.
type ChatTokenRotator interface {
	// RotateChatToken sets the token hash of the user linked to chatID and forgets the user's
	// idempotency records (they may hold the old token), returning the user's e-mail, or
	// stockalert.ErrNotFound when no user is linked to the chat.
	RotateChatToken(ctx context.Context, chatID int64, tokenHash string) (stockalert.Email, error)
}

// RotateTokenHandler handles RotateToken: *stockalert.ValidationError for a malformed chat id,
// stockalert.ErrNotFound when the chat is not linked to an account.
type RotateTokenHandler decorator.CommandHandler[RotateToken]

// NewRotateTokenHandler builds the handler over store.
func NewRotateTokenHandler(store ChatTokenRotator, logger *slog.Logger, m *decorator.Metrics) RotateTokenHandler {
	return decorator.ApplyCommand[RotateToken](rotateTokenHandler{store}, logger, m)
}

type rotateTokenHandler struct{ store ChatTokenRotator }

func (h rotateTokenHandler) Handle(ctx context.Context, cmd RotateToken) error {
	if err := stockalert.ValidateChatID(cmd.ChatID); err != nil {
		return err
	}
	if cmd.TokenHash == "" {
		return fmt.Errorf("rotate the token of chat %d: a token hash is required", cmd.ChatID)
	}
	email, err := h.store.RotateChatToken(ctx, cmd.ChatID, cmd.TokenHash)
	if err != nil {
		return fmt.Errorf("rotate the token of chat %d: %w", cmd.ChatID, err)
	}
	decorator.Report(ctx, slog.LevelInfo, "API token replaced from the chat", slog.String("event", "api-token-rotated"),
		slog.String("email", string(email)), slog.Int64("chat", cmd.ChatID))
	return nil
}
