package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
)

// SetPaused pauses (the bot's /stop) or resumes (/resume) alerts for the user linked to ChatID. A paused
// user's subscriptions are not evaluated; on resume a range still breached alerts at once.
type SetPaused struct {
	ChatID int64
	Paused bool
}

// SetPausedHandler handles SetPaused: stockalert.ErrNotFound when no user is linked to the chat.
type SetPausedHandler decorator.CommandHandler[SetPaused]

// NewSetPausedHandler builds the handler over store.
func NewSetPausedHandler(store ChatSettings, logger *slog.Logger, m *decorator.Metrics) SetPausedHandler {
	return decorator.ApplyCommand[SetPaused](setPausedHandler{store}, logger, m)
}

type setPausedHandler struct{ store ChatSettings }

func (h setPausedHandler) Handle(ctx context.Context, cmd SetPaused) error {
	if err := h.store.SetPaused(ctx, cmd.ChatID, cmd.Paused); err != nil {
		return fmt.Errorf("set paused=%t for chat %d: %w", cmd.Paused, cmd.ChatID, err)
	}
	return nil
}
