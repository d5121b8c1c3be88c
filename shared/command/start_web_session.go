package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// WebSessionTTL is how long a dashboard session lasts when StartWebSession is not told.
const WebSessionTTL = 7 * 24 * time.Hour

// StartWebSession signs a browser in to the web dashboard: it uses up the one-time code whose hash
// is CodeHash and stores a session (the hash of its id, SessionHash, both from WebSecretHash) of the
// code's user, valid for TTL (WebSessionTTL when zero).
type StartWebSession struct {
	CodeHash    string
	SessionHash string
	TTL         time.Duration
}

// WebSessionStarter exchanges sign-in codes for sessions.
type WebSessionStarter interface {
	Transactor
	// TakeWebLogin removes the code and returns its user's id when it was valid at now, or
	// stockalert.ErrNotFound.
	TakeWebLogin(ctx context.Context, codeHash string, now time.Time) (int64, error)
	// AddWebSession stores a session of the user.
	AddWebSession(ctx context.Context, idHash string, userID int64, created, expires time.Time) error
}

// StartWebSessionHandler handles StartWebSession: a *stockalert.ValidationError naming "code" for an
// unknown, used or expired code (nothing is written); a wrapped store fault otherwise.
type StartWebSessionHandler decorator.CommandHandler[StartWebSession]

// NewStartWebSessionHandler builds the handler over store, with now as its clock (time.Now when nil).
func NewStartWebSessionHandler(store WebSessionStarter, now func() time.Time, logger *slog.Logger, m *decorator.Metrics) StartWebSessionHandler {
	if now == nil {
		now = time.Now
	}
	return decorator.ApplyCommand[StartWebSession](startWebSessionHandler{store, now}, logger, m)
}

type startWebSessionHandler struct {
	store WebSessionStarter
	now   func() time.Time
}

func (h startWebSessionHandler) Handle(ctx context.Context, cmd StartWebSession) error {
	ttl := cmd.TTL
	if ttl <= 0 {
		ttl = WebSessionTTL
	}
	now := h.now()
	err := h.store.InTx(ctx, func(ctx context.Context) error {
		userID, err := h.store.TakeWebLogin(ctx, cmd.CodeHash, now)
		if err != nil {
			return fmt.Errorf("start web session: %w", err)
		}
		if err := h.store.AddWebSession(ctx, cmd.SessionHash, userID, now, now.Add(ttl)); err != nil {
			return fmt.Errorf("start web session: %w", err)
		}
		return nil
	})
	if errors.Is(err, stockalert.ErrNotFound) {
		return stockalert.Invalid("code", "this sign-in link is unknown, used or expired: send /web to the bot for a new one")
	}
	if err != nil {
		return err
	}
	decorator.Report(ctx, slog.LevelInfo, "web session started", slog.String("event", "web-session-started"))
	return nil
}
