package telegram

import (
	"context"
	"fmt"
	"log/slog"
)

// DryRun stands in for a Sender when no bot token is configured: it logs each message it would have
// sent and reports it undeliverable, so the notification log says why nothing arrived and the alert is
// not retried forever.
type DryRun struct {
	logger *slog.Logger
}

// NewDryRun returns a DryRun that logs to logger.
func NewDryRun(logger *slog.Logger) *DryRun { return &DryRun{logger: logger} }

// Send logs the message and returns an error wrapping ErrUndeliverable.
func (d *DryRun) Send(ctx context.Context, chatID int64, text string) error {
	d.logger.InfoContext(ctx, "dry run: would send a Telegram message", "chat_id", chatID, "text", text)
	return fmt.Errorf("dry run, no Telegram bot token configured: %w", ErrUndeliverable)
}
