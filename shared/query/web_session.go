package query

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// WebSession asks whose web dashboard session has the id hash SessionHash (command.WebSecretHash of
// the session id in the browser's cookie).
type WebSession struct {
	SessionHash string
}

// WebSessionReader reads dashboard sessions.
type WebSessionReader interface {
	// WebSessionUser returns the e-mail of the session's user while it is valid at now, or
	// stockalert.ErrNotFound.
	WebSessionUser(ctx context.Context, idHash string, now time.Time) (stockalert.Email, error)
}

// WebSessionHandler answers WebSession: the user's e-mail, or stockalert.ErrNotFound for an unknown,
// ended or expired session.
type WebSessionHandler decorator.QueryHandler[WebSession, stockalert.Email]

// NewWebSessionHandler builds the handler over r, with now as its clock (time.Now when nil).
func NewWebSessionHandler(r WebSessionReader, now func() time.Time, logger *slog.Logger, m *decorator.Metrics) WebSessionHandler {
	if now == nil {
		now = time.Now
	}
	return decorator.ApplyQuery[WebSession, stockalert.Email](webSessionHandler{r, now}, logger, m)
}

type webSessionHandler struct {
	r   WebSessionReader
	now func() time.Time
}

func (h webSessionHandler) Handle(ctx context.Context, q WebSession) (stockalert.Email, error) {
	email, err := h.r.WebSessionUser(ctx, q.SessionHash, h.now())
	if err != nil {
		return "", fmt.Errorf("web session: %w", err)
	}
	return email, nil
}
