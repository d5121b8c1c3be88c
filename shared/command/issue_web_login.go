package command

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// WebLoginTTL is how long a dashboard sign-in link stays valid when IssueWebLogin is not told.
const WebLoginTTL = 10 * time.Minute

// IssueWebLogin stores a one-time sign-in code for the web dashboard for the user linked to the
// Telegram chat ChatID (the bot's /web). The caller generates the code, shows it once (in a link)
// and passes its hash (WebSecretHash); the code is valid for TTL (WebLoginTTL when zero) and for one
// sign-in.
type IssueWebLogin struct {
	ChatID   int64
	CodeHash string
	TTL      time.Duration
}

// WebLoginIssuer stores sign-in codes of users found by chat.
type WebLoginIssuer interface {
	// UserByChat returns the user linked to the Telegram chat chatID, or stockalert.ErrNotFound.
	UserByChat(ctx context.Context, chatID int64) (stockalert.User, error)
	// AddWebLogin stores a sign-in code hash for the user, valid until expires.
	AddWebLogin(ctx context.Context, codeHash string, userID int64, expires time.Time) error
}

// IssueWebLoginHandler handles IssueWebLogin: stockalert.ErrNotFound when no user is linked to the
// chat; a wrapped store fault otherwise.
type IssueWebLoginHandler decorator.CommandHandler[IssueWebLogin]

// NewIssueWebLoginHandler builds the handler over store, with now as its clock (time.Now when nil).
func NewIssueWebLoginHandler(store WebLoginIssuer, now func() time.Time, logger *slog.Logger, m *decorator.Metrics) IssueWebLoginHandler {
	if now == nil {
		now = time.Now
	}
	return decorator.ApplyCommand[IssueWebLogin](issueWebLoginHandler{store, now}, logger, m)
}

type issueWebLoginHandler struct {
	store WebLoginIssuer
	now   func() time.Time
}

func (h issueWebLoginHandler) Handle(ctx context.Context, cmd IssueWebLogin) error {
	if len(cmd.CodeHash) != sha256.Size*2 {
		return fmt.Errorf("issue web login for chat %d: a SHA-256 hex hash is required", cmd.ChatID)
	}
	ttl := cmd.TTL
	if ttl <= 0 {
		ttl = WebLoginTTL
	}
	u, err := h.store.UserByChat(ctx, cmd.ChatID)
	if err != nil {
		return fmt.Errorf("issue web login for chat %d: %w", cmd.ChatID, err)
	}
	if err := h.store.AddWebLogin(ctx, cmd.CodeHash, u.ID, h.now().Add(ttl)); err != nil {
		return fmt.Errorf("issue web login for %s: %w", u.Email, err)
	}
	decorator.Report(ctx, slog.LevelInfo, "web login issued", slog.String("event", "web-login-issued"),
		slog.String("email", string(u.Email)))
	return nil
}

// WebSecretHash is the stored form of a dashboard secret (a sign-in code or a session id): hex
// SHA-256 of it.
func WebSecretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
