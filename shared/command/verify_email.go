package command

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// VerifyEmail confirms an e-mail address with the code of its verification mail (the page's button,
// or /verify <code> in the chat): the code is used up, the address is marked confirmed and the user's
// e-mail channel is turned on, with a new unsubscribe secret (EmailUnsubscribeToken).
type VerifyEmail struct {
	Code string
}

// VerifyEmailHandler handles VerifyEmail. Errors: a *stockalert.ValidationError naming "code" when the
// code is malformed, unknown, used or expired (nothing changes); store faults.
type VerifyEmailHandler decorator.CommandHandler[VerifyEmail]

// EmailConfirmations uses up codes and records confirmed addresses (*sqlstore.Store implements it).
type EmailConfirmations interface {
	// EmailVerification returns the outstanding code with this hash, or stockalert.ErrNotFound.
	EmailVerification(ctx context.Context, codeHash string) (stockalert.EmailVerification, error)
	DeleteEmailVerification(ctx context.Context, codeHash string) (deleted bool, err error)
	// ConfirmEmail marks email confirmed for the user at at, turns the e-mail channel on and stores
	// its unsubscribe secret.
	ConfirmEmail(ctx context.Context, userID int64, email stockalert.Email, unsubscribeSecret string, at time.Time) error
}

// NewVerifyEmailHandler builds the handler; now is the clock (nil: time.Now).
func NewVerifyEmailHandler(store EmailConfirmations, tx Transactor, now func() time.Time, logger *slog.Logger, m *decorator.Metrics) VerifyEmailHandler {
	if now == nil {
		now = time.Now
	}
	return decorator.ApplyCommand[VerifyEmail](verifyEmailHandler{store, tx, now}, logger, m)
}

type verifyEmailHandler struct {
	store EmailConfirmations
	tx    Transactor
	now   func() time.Time
}

func errBadCode() error {
	return stockalert.Invalid("code", "this code is unknown, already used or expired: ask for a new verification mail")
}

func (h verifyEmailHandler) Handle(ctx context.Context, cmd VerifyEmail) error {
	code, ok := NormalizeVerificationCode(cmd.Code)
	if !ok {
		return stockalert.Invalid("code", "a verification code is 10 letters and digits, as in the mail")
	}
	hash := VerificationCodeHash(code)
	secret, err := newUnsubscribeSecret()
	if err != nil {
		return err
	}
	return h.tx.InTx(ctx, func(ctx context.Context) error {
		v, err := h.store.EmailVerification(ctx, hash)
		if errors.Is(err, stockalert.ErrNotFound) {
			return errBadCode()
		}
		if err != nil {
			return fmt.Errorf("verify e-mail: %w", err)
		}
		now := h.now()
		if !now.Before(v.ExpiresAt) {
			return errBadCode()
		}
		deleted, err := h.store.DeleteEmailVerification(ctx, hash)
		if err != nil {
			return fmt.Errorf("verify e-mail: %w", err)
		}
		if !deleted { // a concurrent use took it first
			return errBadCode()
		}
		if err := h.store.ConfirmEmail(ctx, v.UserID, v.Email, secret, now); err != nil {
			return fmt.Errorf("verify e-mail of user %d: %w", v.UserID, err)
		}
		decorator.Report(ctx, slog.LevelInfo, "e-mail address confirmed", slog.Int64("user_id", v.UserID),
			slog.String("event", "email-verified"))
		return nil
	})
}

// newUnsubscribeSecret is 32 random bytes, base64url without padding.
func newUnsubscribeSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("unsubscribe secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
