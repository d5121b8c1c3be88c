package command

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// SendEmailVerification mails the account's address a one-time code that confirms it: a link to
// user-commands' /email/verify page and the code itself, which the bot accepts (/verify <code>). No
// alert goes by e-mail to an address until it is confirmed (VerifyEmail).
type SendEmailVerification struct {
	Email stockalert.Email
}

// SendEmailVerificationHandler handles SendEmailVerification. Errors: stockalert.ErrNotFound (no such
// user), stockalert.ErrTooManyVerifications (the address's hourly limit is reached: nothing is sent),
// stockalert.ErrChannelOff (no SMTP relay configured), and the mailer's errors (the code is then
// withdrawn, so it does not count against the limit).
type SendEmailVerificationHandler decorator.CommandHandler[SendEmailVerification]

// VerificationMailer sends the verification mail (shared/email implements it). expires is how long the
// code is valid, for the mail to say.
type VerificationMailer interface {
	SendVerification(ctx context.Context, to stockalert.Email, code string, expires time.Duration) error
}

// EmailVerificationStore keeps the outstanding codes (*sqlstore.Store implements it).
type EmailVerificationStore interface {
	UserByEmail(ctx context.Context, email stockalert.Email) (stockalert.User, error)
	// CountEmailVerifications counts the codes created for the user's address email since since,
	// used or not.
	CountEmailVerifications(ctx context.Context, userID int64, email stockalert.Email, since time.Time) (int, error)
	AddEmailVerification(ctx context.Context, v stockalert.EmailVerification) error
	// DeleteEmailVerification removes the code; deleted is false when it was not there (already
	// used).
	DeleteEmailVerification(ctx context.Context, codeHash string) (deleted bool, err error)
}

// EmailVerificationSettings bound the codes: TTL is how long one is valid (default 24h), PerHour how
// many mails one address may be sent in a rolling hour (default 3), Now the clock (default time.Now).
type EmailVerificationSettings struct {
	TTL     time.Duration
	PerHour int
	Now     func() time.Time
}

func (s EmailVerificationSettings) withDefaults() EmailVerificationSettings {
	if s.TTL <= 0 {
		s.TTL = 24 * time.Hour
	}
	if s.PerHour <= 0 {
		s.PerHour = 3
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	return s
}

// NewSendEmailVerificationHandler builds the handler over store and mailer.
func NewSendEmailVerificationHandler(store EmailVerificationStore, mailer VerificationMailer, set EmailVerificationSettings,
	logger *slog.Logger, m *decorator.Metrics) SendEmailVerificationHandler {
	return decorator.ApplyCommand[SendEmailVerification](sendEmailVerificationHandler{store, mailer, set.withDefaults()}, logger, m)
}

type sendEmailVerificationHandler struct {
	store  EmailVerificationStore
	mailer VerificationMailer
	set    EmailVerificationSettings
}

func (h sendEmailVerificationHandler) Handle(ctx context.Context, cmd SendEmailVerification) error {
	u, err := h.store.UserByEmail(ctx, cmd.Email)
	if err != nil {
		return fmt.Errorf("e-mail verification of %s: %w", cmd.Email, err)
	}
	now := h.set.Now()
	n, err := h.store.CountEmailVerifications(ctx, u.ID, u.Email, now.Add(-time.Hour))
	if err != nil {
		return fmt.Errorf("e-mail verification of %s: %w", cmd.Email, err)
	}
	if n >= h.set.PerHour {
		return fmt.Errorf("e-mail verification of %s: %d sent in the last hour: %w", cmd.Email, n, stockalert.ErrTooManyVerifications)
	}
	code, err := newVerificationCode()
	if err != nil {
		return err
	}
	v := stockalert.EmailVerification{CodeHash: VerificationCodeHash(code), UserID: u.ID, Email: u.Email,
		CreatedAt: now, ExpiresAt: now.Add(h.set.TTL)}
	if err := h.store.AddEmailVerification(ctx, v); err != nil {
		return fmt.Errorf("e-mail verification of %s: %w", cmd.Email, err)
	}
	if err := h.mailer.SendVerification(ctx, u.Email, code, h.set.TTL); err != nil {
		if _, derr := h.store.DeleteEmailVerification(ctx, v.CodeHash); derr != nil {
			err = errors.Join(err, fmt.Errorf("withdraw the unsent code: %w", derr))
		}
		return fmt.Errorf("e-mail verification of %s: %w", cmd.Email, err)
	}
	decorator.Report(ctx, slog.LevelInfo, "verification mail sent", slog.Int64("user_id", u.ID), slog.String("event", "email-verification-sent"))
	return nil
}

// The verification code: 10 characters of RFC 4648 base32 (A–Z, 2–7; 50 bits), easy to type to the
// bot. Input is upper-cased and loses spaces and dashes before it is checked.
const verificationCodeLen = 10

func newVerificationCode() (string, error) {
	b := make([]byte, 7)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("verification code: %w", err)
	}
	return base32.StdEncoding.EncodeToString(b)[:verificationCodeLen], nil
}

// NormalizeVerificationCode returns code as stored (upper case, no spaces or dashes) and whether it
// has the code's form.
func NormalizeVerificationCode(code string) (string, bool) {
	code = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(code))
	if len(code) != verificationCodeLen {
		return "", false
	}
	for _, r := range code {
		if (r < 'A' || r > 'Z') && (r < '2' || r > '7') {
			return "", false
		}
	}
	return code, true
}

// VerificationCodeHash is the stored form of a code: hex SHA-256 of its normalized form.
func VerificationCodeHash(code string) string {
	if c, ok := NormalizeVerificationCode(code); ok {
		code = c
	}
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// EmailVerifierOf adapts the SendEmailVerification handler to EnableChannel's EmailVerifier port:
// turning e-mail on for an unconfirmed address sends the verification mail.
func EmailVerifierOf(h SendEmailVerificationHandler) EmailVerifier { return emailVerifier{h} }

type emailVerifier struct{ h SendEmailVerificationHandler }

func (v emailVerifier) SendVerification(ctx context.Context, u stockalert.User) error {
	return v.h.Handle(ctx, SendEmailVerification{Email: u.Email})
}
