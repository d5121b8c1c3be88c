package command

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// SetTimeZone sets the time zone every time shown to the user linked to ChatID is written in, and in
// which their quiet hours are read (the bot's /tz). Zone is an IANA time zone name (Europe/Paris,
// America/New_York, UTC), as the tz database spells it.
type SetTimeZone struct {
	ChatID int64
	Zone   string
}

// ChatPreferences changes the time zone and quiet hours of the user linked to a chat.
type ChatPreferences interface {
	// UserByChat returns the user linked to chatID, or stockalert.ErrNotFound.
	UserByChat(ctx context.Context, chatID int64) (stockalert.User, error)
	// SetTimeZone sets the user's IANA zone, or returns stockalert.ErrNotFound.
	SetTimeZone(ctx context.Context, chatID int64, zone string) error
	// SetQuietHours sets (or, with q.Set false, clears) the user's quiet hours, or returns
	// stockalert.ErrNotFound.
	SetQuietHours(ctx context.Context, chatID int64, q stockalert.QuietHours) error
}

// SetTimeZoneHandler handles SetTimeZone: a *stockalert.ValidationError naming "time_zone" for a
// name that is not an IANA zone this machine knows (time.LoadLocation; "Local" is refused too),
// stockalert.ErrNotFound when no user is linked to the chat.
type SetTimeZoneHandler decorator.CommandHandler[SetTimeZone]

// NewSetTimeZoneHandler builds the handler over store.
func NewSetTimeZoneHandler(store ChatPreferences, logger *slog.Logger, m *decorator.Metrics) SetTimeZoneHandler {
	return decorator.ApplyCommand[SetTimeZone](setTimeZoneHandler{store}, logger, m)
}

type setTimeZoneHandler struct{ store ChatPreferences }

func (h setTimeZoneHandler) Handle(ctx context.Context, cmd SetTimeZone) error {
	zone, err := ParseTimeZone(cmd.Zone)
	if err != nil {
		return err
	}
	if err := h.store.SetTimeZone(ctx, cmd.ChatID, zone); err != nil {
		return fmt.Errorf("set time zone of chat %d: %w", cmd.ChatID, err)
	}
	u, err := h.store.UserByChat(ctx, cmd.ChatID)
	if err != nil {
		return fmt.Errorf("read the user of chat %d back: %w", cmd.ChatID, err)
	}
	decorator.Report(ctx, slog.LevelInfo, "time zone set", slog.String("event", "time-zone-set"),
		slog.String("email", string(u.Email)), slog.String("time_zone", zone))
	return nil
}

// ParseTimeZone checks an IANA time zone name with time.LoadLocation and returns it as the tz database
// spells it ("utc" is UTC; other names are case-sensitive there). A name that is empty, "Local", or
// unknown to this machine's zone database is a *stockalert.ValidationError naming "time_zone".
func ParseTimeZone(name string) (string, error) {
	name = strings.TrimSpace(name)
	if strings.EqualFold(name, "UTC") {
		return "UTC", nil
	}
	if name == "" || name == "Local" || len(name) > 64 {
		return "", stockalert.Invalid("time_zone", "%q is not an IANA time zone name", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return "", stockalert.Invalid("time_zone", "%q is not an IANA time zone name", name)
	}
	return loc.String(), nil
}
