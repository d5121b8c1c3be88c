package command

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
)

// EndWebSession signs a browser out of the web dashboard: the session whose id hash is SessionHash
// (WebSecretHash) ends, and every expired session is removed with it.
type EndWebSession struct {
	SessionHash string
}

// WebSessionEnder removes sessions.
type WebSessionEnder interface {
	// DeleteWebSession removes the session and those expired before now; one already gone is no error.
	DeleteWebSession(ctx context.Context, idHash string, now time.Time) error
}

// EndWebSessionHandler handles EndWebSession: only a wrapped store fault.
type EndWebSessionHandler decorator.CommandHandler[EndWebSession]

// NewEndWebSessionHandler builds the handler over store, with now as its clock (time.Now when nil).
func NewEndWebSessionHandler(store WebSessionEnder, now func() time.Time, logger *slog.Logger, m *decorator.Metrics) EndWebSessionHandler {
	if now == nil {
		now = time.Now
	}
	return decorator.ApplyCommand[EndWebSession](endWebSessionHandler{store, now}, logger, m)
}

type endWebSessionHandler struct {
	store WebSessionEnder
	now   func() time.Time
}

func (h endWebSessionHandler) Handle(ctx context.Context, cmd EndWebSession) error {
	if err := h.store.DeleteWebSession(ctx, cmd.SessionHash, h.now()); err != nil {
		return fmt.Errorf("end web session: %w", err)
	}
	decorator.Report(ctx, slog.LevelInfo, "web session ended", slog.String("event", "web-session-ended"))
	return nil
}
