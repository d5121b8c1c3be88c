package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// SetQuietHours sets or clears the daily window during which the alerts of the user linked to ChatID
// are held rather than sent (the bot's /quiet): Quiet is read in the user's time zone; Quiet.Set false
// clears it. Alerts held meanwhile are summed up in one message once the window ends (see
// ReleaseHeldAlerts).
type SetQuietHours struct {
	ChatID int64
	Quiet  stockalert.QuietHours
}

// SetQuietHoursHandler handles SetQuietHours: a *stockalert.ValidationError naming "quiet_hours" for a
// window outside 00:00 to 23:59 or one that starts where it ends; stockalert.ErrNotFound when no user
// is linked to the chat.
type SetQuietHoursHandler decorator.CommandHandler[SetQuietHours]

// NewSetQuietHoursHandler builds the handler over store.
func NewSetQuietHoursHandler(store ChatPreferences, logger *slog.Logger, m *decorator.Metrics) SetQuietHoursHandler {
	return decorator.ApplyCommand[SetQuietHours](setQuietHoursHandler{store}, logger, m)
}

type setQuietHoursHandler struct{ store ChatPreferences }

func (h setQuietHoursHandler) Handle(ctx context.Context, cmd SetQuietHours) error {
	q := cmd.Quiet
	if q.Set && (q.Start < 0 || q.Start >= 24*60 || q.End < 0 || q.End >= 24*60 || q.Start == q.End) {
		return stockalert.Invalid("quiet_hours", "the window must run from one time of day (00:00 to 23:59) to another")
	}
	if !q.Set {
		q = stockalert.QuietHours{}
	}
	if err := h.store.SetQuietHours(ctx, cmd.ChatID, q); err != nil {
		return fmt.Errorf("set quiet hours of chat %d: %w", cmd.ChatID, err)
	}
	u, err := h.store.UserByChat(ctx, cmd.ChatID)
	if err != nil {
		return fmt.Errorf("read the user of chat %d back: %w", cmd.ChatID, err)
	}
	decorator.Report(ctx, slog.LevelInfo, "quiet hours set", slog.String("event", "quiet-hours-set"),
		slog.String("email", string(u.Email)), slog.String("quiet_hours", q.String()), slog.String("time_zone", u.Location().String()))
	return nil
}
