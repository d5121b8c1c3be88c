package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// DeleteRule removes one of the user's alert rules. RuleID is the id as the API shows it
// (stockalert.RuleIDString).
type DeleteRule struct {
	Email  string
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
	ruleDeleter
}

// DeleteRuleHandler handles DeleteRule: a *stockalert.ValidationError for a malformed e-mail, and a
// *stockalert.NotFoundError "no such rule" (stockalert.ErrNotFound) alike for a malformed id, the id
// of someone else's rule and a rule already deleted, so that ids tell a caller nothing.
type DeleteRuleHandler decorator.CommandHandler[DeleteRule]

// NewDeleteRuleHandler builds the handler over store.
func NewDeleteRuleHandler(store RuleDeleter, logger *slog.Logger, m *decorator.Metrics) DeleteRuleHandler {
	return decorator.ApplyCommand[DeleteRule](deleteRuleHandler{store}, logger, m)
}

type deleteRuleHandler struct{ store RuleDeleter }

func (h deleteRuleHandler) Handle(ctx context.Context, cmd DeleteRule) error {
	email, err := stockalert.ParseEmail(cmd.Email)
	if err != nil {
		return err
	}
	id, err := stockalert.ParseRuleID(cmd.RuleID)
	if err != nil {
		return stockalert.NotFound("no such rule")
	}
	return h.store.InTx(ctx, func(ctx context.Context) error {
		u, err := h.store.LockUser(ctx, email)
		if err != nil {
			return fmt.Errorf("delete rule of %s: %w", email, err)
		}
		if err := h.store.DeleteRule(ctx, u.ID, id); err != nil {
			return fmt.Errorf("delete rule %d of %s: %w", id, email, err)
		}
		return nil
	})
}
