package command

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// UnsubscribeEmail turns a user's e-mail channel off from the link every alert mail carries
// (List-Unsubscribe, RFC 8058 one-click, or the page's button). Turning it off again is fine.
type UnsubscribeEmail struct {
	Token string
}

// UnsubscribeEmailHandler handles UnsubscribeEmail. Errors: a *stockalert.ValidationError naming
// "token" when the token is malformed or not the user's (nothing changes); store faults.
type UnsubscribeEmailHandler decorator.CommandHandler[UnsubscribeEmail]

// EmailUnsubscriptions reads the unsubscribe secret and turns the channel off (*sqlstore.Store
// implements it).
type EmailUnsubscriptions interface {
	// EmailUnsubscribeSecret returns the secret stored when the user's address was confirmed, or
	// stockalert.ErrNotFound.
	EmailUnsubscribeSecret(ctx context.Context, userID int64) (string, error)
	// DisableEmail turns the user's e-mail channel off (the address stays confirmed).
	DisableEmail(ctx context.Context, userID int64, at time.Time) error
}

// EmailUnsubscribeToken is the token of a user's unsubscribe link: "<user id>.<secret>", the secret
// being the random value (32 bytes, base64url) stored when the address was confirmed. Tokens are
// random and stored, not signed: no key is shared between functions, and a new confirmation replaces
// the secret (the older mails' links stop working).
func EmailUnsubscribeToken(userID int64, secret string) string {
	return strconv.FormatInt(userID, 10) + "." + secret
}

// NewUnsubscribeEmailHandler builds the handler; now is the clock (nil: time.Now).
func NewUnsubscribeEmailHandler(store EmailUnsubscriptions, now func() time.Time, logger *slog.Logger, m *decorator.Metrics) UnsubscribeEmailHandler {
	if now == nil {
		now = time.Now
	}
	return decorator.ApplyCommand[UnsubscribeEmail](unsubscribeEmailHandler{store, now}, logger, m)
}

type unsubscribeEmailHandler struct {
	store EmailUnsubscriptions
	now   func() time.Time
}

func (h unsubscribeEmailHandler) Handle(ctx context.Context, cmd UnsubscribeEmail) error {
	bad := stockalert.Invalid("token", "this unsubscribe link is not valid: use the link of a recent alert mail")
	id, secret, ok := strings.Cut(strings.TrimSpace(cmd.Token), ".")
	userID, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil || userID <= 0 || secret == "" {
		return bad
	}
	stored, err := h.store.EmailUnsubscribeSecret(ctx, userID)
	if errors.Is(err, stockalert.ErrNotFound) {
		return bad
	}
	if err != nil {
		return fmt.Errorf("unsubscribe e-mail of user %d: %w", userID, err)
	}
	if stored == "" || subtle.ConstantTimeCompare([]byte(stored), []byte(secret)) != 1 {
		return bad
	}
	if err := h.store.DisableEmail(ctx, userID, h.now()); err != nil {
		return fmt.Errorf("unsubscribe e-mail of user %d: %w", userID, err)
	}
	decorator.Report(ctx, slog.LevelInfo, "e-mail alerts turned off", slog.Int64("user_id", userID),
		slog.String("event", "email-unsubscribed"))
	return nil
}
