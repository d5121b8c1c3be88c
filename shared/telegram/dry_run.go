package telegram

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// DryRun stands in for a Sender when no bot token is configured: it logs each message it would have
// sent and reports it undeliverable, so the notification log says why nothing arrived and the alert is
// not retried forever.
type DryRun struct {
	logger *slog.Logger
}

// NewDryRun returns a DryRun that logs to logger.
func NewDryRun(logger *slog.Logger) *DryRun { return &DryRun{logger: logger} }

// Send logs the message and returns an error wrapping ErrUndeliverable and stockalert.ErrChannelOff.
func (d *DryRun) Send(ctx context.Context, chatID int64, text string, _ ...[]stockalert.ChatButton) error {
	// The event attribute marks the line as one a person running the pipeline should see (make run
	// prints such lines), so the alert texts can be read without a bot.
	d.logger.LogAttrs(ctx, slog.LevelInfo, "dry run: would send a Telegram message", slog.String("event", "telegram-dry-run"),
		slog.Int64("chat_id", chatID), slog.String("text", text))
	return fmt.Errorf("dry run, no Telegram bot token configured: %w: %w", ErrUndeliverable, stockalert.ErrChannelOff)
}
