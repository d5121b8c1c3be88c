package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// DeleteRule removes one of the user's alert rules: of the user with that Email or, when Email is
// empty, of the user linked to the Telegram chat ChatID (the bot's /delete and the alert's "Delete
// alert" button). RuleID is the id as the API shows it (stockalert.RuleIDString).
type DeleteRule struct {
	Email  string
	ChatID int64
	RuleID string
}

// ruleDeleter removes rules.
type ruleDeleter interface {
	// DeleteRule removes the user's rule id, or returns stockalert.ErrNotFound.
	DeleteRule(ctx context.Context, userID, id int64) error
}

// RuleDeleter removes the rules of users found by e-mail.
type RuleDeleter interface {
	Transactor
	userLocker
	chatUserLocker
	ruleDeleter
}

// chatUserLocker finds and locks users by their linked chat.
type chatUserLocker interface {
	// LockChatUser returns the user linked to the Telegram chat chatID, locked until the transaction
	// ends, or stockalert.ErrNotFound.
	LockChatUser(ctx context.Context, chatID int64) (stockalert.User, error)
}

// DeleteRuleHandler handles DeleteRule: a *stockalert.ValidationError for a malformed e-mail,
// stockalert.ErrNotFound for an unknown user or a chat linked to none, and a
// *stockalert.NotFoundError "no such rule" (stockalert.ErrNotFound) alike for a malformed id, the id
// of someone else's rule and a rule already deleted, so that ids tell a caller nothing.
type DeleteRuleHandler decorator.CommandHandler[DeleteRule]

// NewDeleteRuleHandler builds the handler over store.
func NewDeleteRuleHandler(store RuleDeleter, logger *slog.Logger, m *decorator.Metrics) DeleteRuleHandler {
	return decorator.ApplyCommand[DeleteRule](deleteRuleHandler{store}, logger, m)
}

type deleteRuleHandler struct{ store RuleDeleter }

func (h deleteRuleHandler) Handle(ctx context.Context, cmd DeleteRule) error {
	var email stockalert.Email
	if cmd.Email != "" || cmd.ChatID == 0 {
		var err error
		if email, err = stockalert.ParseEmail(cmd.Email); err != nil {
			return err
		}
	}
	id, err := stockalert.ParseRuleID(cmd.RuleID)
	if err != nil {
		return stockalert.NotFound("no such rule")
	}
	var owner stockalert.User
	err = h.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if email != "" {
			owner, err = h.store.LockUser(ctx, email)
		} else {
			owner, err = h.store.LockChatUser(ctx, cmd.ChatID)
		}
		if err != nil {
			return fmt.Errorf("delete rule %d: %w", id, err)
		}
		if err := h.store.DeleteRule(ctx, owner.ID, id); err != nil {
			return fmt.Errorf("delete rule %d of %s: %w", id, owner.Email, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	decorator.Report(ctx, slog.LevelInfo, "rule deleted", slog.String("event", "rule-deleted"),
		slog.String("email", string(owner.Email)), slog.String("rule_id", cmd.RuleID))
	return nil
}
