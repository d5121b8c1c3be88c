package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// EnableChannel turns channels on or off for a user, found by Email or, when Email is "", by the linked
// Telegram chat ChatID (the bot's /channels). Set holds each channel to change: true turns it on, false
// off. All the changes are made, or none.
//
// Turning e-mail on for an address not confirmed yet sends the verification mail (EmailVerifier) and
// turns the channel on; no alert goes to the address until it is confirmed. Turning the webhook on
// needs its URL registered first. Turning a channel on clears the reason the system turned it off.
type EnableChannel struct {
	Email  string
	ChatID int64
	Set    map[stockalert.Channel]bool
	// VerificationSent, when not nil, receives whether a verification mail was sent.
	VerificationSent *bool
}

// EmailVerifier sends the mail that confirms a user's e-mail address (a link to user-commands and a
// code the bot accepts). The e-mail channel implements it.
type EmailVerifier interface {
	// SendVerification sends u a verification mail for u.Email. Errors a user should read (a rate
	// limit: a *stockalert.ValidationError or *stockalert.ConflictError naming "email") pass through
	// EnableChannel as they are; stockalert.ErrChannelOff when e-mail is not configured; anything else
	// is a fault.
	SendVerification(ctx context.Context, u stockalert.User) error
}

// ChannelSwitches reads and changes users' channel settings.
type ChannelSwitches interface {
	Transactor
	userLocker
	chatUserLocker
	// ChannelSettings returns the user's settings of every channel, in stockalert.Channels order.
	ChannelSettings(ctx context.Context, userID int64) ([]stockalert.ChannelSettings, error)
	// SetChannelEnabled turns the channel on or off at the user's request.
	SetChannelEnabled(ctx context.Context, userID int64, channel stockalert.Channel, enabled bool) error
}

// EnableChannelHandler handles EnableChannel: a *stockalert.ValidationError for a malformed e-mail or
// no change asked for; stockalert.ErrNotFound for an unknown user or a chat linked to none; a
// *stockalert.ConflictError naming the channel when it cannot be turned on: "webhook" without a
// registered URL, "email" when e-mail is not configured on this server (no EmailVerifier, or it
// answers stockalert.ErrChannelOff); the verifier's own errors for the user (a rate limit).
type EnableChannelHandler decorator.CommandHandler[EnableChannel]

// NewEnableChannelHandler builds the handler over store; verifier may be nil (e-mail not configured).
func NewEnableChannelHandler(store ChannelSwitches, verifier EmailVerifier, logger *slog.Logger, m *decorator.Metrics) EnableChannelHandler {
	return decorator.ApplyCommand[EnableChannel](enableChannelHandler{store, verifier}, logger, m)
}

type enableChannelHandler struct {
	store    ChannelSwitches
	verifier EmailVerifier
}

// errEmailOff is the answer when e-mail cannot be turned on here.
var errEmailOff = &stockalert.ConflictError{Field: string(stockalert.ChannelEmail), Reason: "e-mail is not configured on this server"}

func (h enableChannelHandler) Handle(ctx context.Context, cmd EnableChannel) error {
	var email stockalert.Email
	if cmd.Email != "" || cmd.ChatID == 0 {
		var err error
		if email, err = stockalert.ParseEmail(cmd.Email); err != nil {
			return err
		}
	}
	if len(cmd.Set) == 0 {
		return stockalert.Invalid("channels", "name a channel to turn on or off")
	}
	for c := range cmd.Set {
		if _, err := stockalert.ParseChannel("channels", string(c)); err != nil {
			return err
		}
	}
	// Check first (and send the verification mail outside any transaction), then write.
	u, verify, err := h.check(ctx, email, cmd)
	if err != nil {
		return err
	}
	if verify {
		if h.verifier == nil {
			return errEmailOff
		}
		if err := h.verifier.SendVerification(ctx, u); err != nil {
			if isChannelOff(err) {
				return errEmailOff
			}
			return fmt.Errorf("turn e-mail on for %s: verification mail: %w", u.Email, err)
		}
	}
	if _, _, err := h.check(ctx, email, cmd); err != nil { // nothing changed meanwhile that forbids it
		return err
	}
	err = h.store.InTx(ctx, func(ctx context.Context) error {
		for _, c := range stockalert.Channels {
			on, ok := cmd.Set[c]
			if !ok {
				continue
			}
			if err := h.store.SetChannelEnabled(ctx, u.ID, c, on); err != nil {
				return fmt.Errorf("turn %s %s for %s: %w", c, onOff(on), u.Email, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if cmd.VerificationSent != nil {
		*cmd.VerificationSent = verify
	}
	changes := make([]string, 0, len(cmd.Set))
	for _, c := range stockalert.Channels {
		if on, ok := cmd.Set[c]; ok {
			changes = append(changes, string(c)+"="+onOff(on))
		}
	}
	decorator.Report(ctx, slog.LevelInfo, "channels set", slog.String("event", "channels-set"), slog.String("email", string(u.Email)),
		slog.String("channels", strings.Join(changes, " ")), slog.Bool("verification_sent", verify))
	return nil
}

// check finds the user and refuses what cannot be turned on; verify is true when e-mail is turned on
// for an address not confirmed yet.
func (h enableChannelHandler) check(ctx context.Context, email stockalert.Email, cmd EnableChannel) (u stockalert.User, verify bool, err error) {
	err = h.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if email != "" {
			u, err = h.store.LockUser(ctx, email)
		} else {
			u, err = h.store.LockChatUser(ctx, cmd.ChatID)
		}
		if err != nil {
			return fmt.Errorf("set channels: %w", err)
		}
		all, err := h.store.ChannelSettings(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("set channels of %s: %w", u.Email, err)
		}
		for _, s := range all {
			if !cmd.Set[s.Channel] {
				continue
			}
			switch {
			case s.Channel == stockalert.ChannelWebhook && s.Target == "":
				return &stockalert.ConflictError{Field: string(stockalert.ChannelWebhook),
					Reason: "register the webhook's URL before turning it on"}
			case s.Channel == stockalert.ChannelEmail && !s.Verified:
				verify = true
			}
		}
		return nil
	})
	return u, verify, err
}

func isChannelOff(err error) bool { return errors.Is(err, stockalert.ErrChannelOff) }

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
