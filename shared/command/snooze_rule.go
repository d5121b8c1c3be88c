package command

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// SnoozeRule keeps one rule of the user linked to the Telegram chat ChatID from firing before Until
// (the alert's "Snooze 1h" button): no price quoted before Until fires it; the rule is otherwise
// unchanged. A rule already snoozed keeps its snooze, so a repeated request (Telegram delivers a
// button press again) changes nothing. RuleID is the id as alerts carry it (stockalert.RuleIDString).
type SnoozeRule struct {
	ChatID int64
	RuleID string
	Until  time.Time
	// Snoozed, when not nil, receives when the rule may fire again: Until, or the end of the snooze
	// that was already running.
	Snoozed *time.Time
}

// ruleSnoozer snoozes rules.
type ruleSnoozer interface {
	// SnoozeRule snoozes the user's rule id until until unless it is snoozed at now already, and
	// returns the end of its snooze; stockalert.ErrNotFound when the user has no such rule.
	SnoozeRule(ctx context.Context, userID, id int64, now, until time.Time) (time.Time, error)
}

// RuleSnoozer snoozes the rules of users found by their chat.
type RuleSnoozer interface {
	Transactor
	chatUserLocker
	ruleSnoozer
}

// SnoozeRuleHandler handles SnoozeRule: a *stockalert.ValidationError naming "until" when Until is
// not after now; stockalert.ErrNotFound when no user is linked to the chat, and a
// *stockalert.NotFoundError "no such rule" (stockalert.ErrNotFound) alike for a malformed id, the id of
// another account's rule and a rule deleted.
type SnoozeRuleHandler decorator.CommandHandler[SnoozeRule]

// NewSnoozeRuleHandler builds the handler over store, with now as its clock (time.Now when nil).
func NewSnoozeRuleHandler(store RuleSnoozer, now func() time.Time, logger *slog.Logger, m *decorator.Metrics) SnoozeRuleHandler {
	if now == nil {
		now = time.Now
	}
	return decorator.ApplyCommand[SnoozeRule](snoozeRuleHandler{store, now}, logger, m)
}

type snoozeRuleHandler struct {
	store RuleSnoozer
	now   func() time.Time
}

func (h snoozeRuleHandler) Handle(ctx context.Context, cmd SnoozeRule) error {
	now := h.now()
	if !cmd.Until.After(now) {
		return stockalert.Invalid("until", "must be in the future")
	}
	id, err := stockalert.ParseRuleID(cmd.RuleID)
	if err != nil {
		return stockalert.NotFound("no such rule")
	}
	var (
		owner stockalert.User
		until time.Time
	)
	err = h.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if owner, err = h.store.LockChatUser(ctx, cmd.ChatID); err != nil {
			return fmt.Errorf("snooze rule %d: %w", id, err)
		}
		if until, err = h.store.SnoozeRule(ctx, owner.ID, id, now, cmd.Until); err != nil {
			return fmt.Errorf("snooze rule %d of %s: %w", id, owner.Email, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if cmd.Snoozed != nil {
		*cmd.Snoozed = until
	}
	decorator.Report(ctx, slog.LevelInfo, "rule snoozed", slog.String("event", "rule-snoozed"),
		slog.String("email", string(owner.Email)), slog.String("rule_id", cmd.RuleID), slog.Time("until", until))
	return nil
}
