package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// SetNotifyInterval sets how often the user linked to ChatID may be alerted again about a subscription
// that stays out of range (the bot's /set <seconds>).
type SetNotifyInterval struct {
	ChatID  int64
	Seconds int64
}

// SetNotifyIntervalHandler handles SetNotifyInterval: *stockalert.ValidationError for an interval out of
// bounds ("interval"), stockalert.ErrNotFound when no user is linked to the chat.
type SetNotifyIntervalHandler decorator.CommandHandler[SetNotifyInterval]

// NewSetNotifyIntervalHandler builds the handler over store.
func NewSetNotifyIntervalHandler(store ChatSettings, logger *slog.Logger, m *decorator.Metrics) SetNotifyIntervalHandler {
	return decorator.ApplyCommand[SetNotifyInterval](setNotifyIntervalHandler{store}, logger, m)
}

type setNotifyIntervalHandler struct{ store ChatSettings }

func (h setNotifyIntervalHandler) Handle(ctx context.Context, cmd SetNotifyInterval) error {
	if _, err := stockalert.ParseNotifyInterval(cmd.Seconds); err != nil {
		return err
	}
	if err := h.store.SetNotifyInterval(ctx, cmd.ChatID, cmd.Seconds); err != nil {
		return fmt.Errorf("set interval of chat %d: %w", cmd.ChatID, err)
	}
	return nil
}
