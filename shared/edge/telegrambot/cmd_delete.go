package telegrambot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

const (
	deleteUsage  = "Send /delete followed by a rule id from /alerts, for example /delete 12."
	unwatchUsage = "Send /unwatch followed by a ticker, for example /unwatch AAPL: it deletes every rule you have on it."
)

// cmdDelete serves /delete <id> (the id as /alerts shows it, with or without its #): the rule is
// deleted through DeleteRule; an id that is none of the account's rules is answered as such.
func (h *Webhook) cmdDelete(ctx context.Context, req request) (answer, error) {
	if len(req.args) != 1 {
		return reply(deleteUsage), nil
	}
	id := strings.TrimPrefix(req.args[0], "#")
	p, _, err := h.linkedProfile(ctx, req.chatID)
	if err != nil {
		return answer{}, err
	}
	err = h.rules.delete.Handle(ctx, command.DeleteRule{Email: string(p.Email), RuleID: id})
	if errors.Is(err, stockalert.ErrNotFound) {
		return answer{}, fmt.Errorf("%w: %w", errNoSuchRule, err)
	}
	if err != nil {
		return answer{}, err
	}
	return reply(fmt.Sprintf("Rule %s deleted.", id)), nil
}

// cmdUnwatch serves /unwatch <TICKER>: every rule of the account on the ticker is deleted through
// Unsubscribe.
func (h *Webhook) cmdUnwatch(ctx context.Context, req request) (answer, error) {
	if len(req.args) != 1 {
		return reply(unwatchUsage), nil
	}
	ticker := strings.ToUpper(req.args[0])
	p, _, err := h.linkedProfile(ctx, req.chatID)
	if err != nil {
		return answer{}, err
	}
	err = h.rules.unsubscribe.Handle(ctx, command.Unsubscribe{Email: string(p.Email), Ticker: ticker})
	if errors.Is(err, stockalert.ErrNotFound) {
		return answer{}, fmt.Errorf("%w: %w", errNotWatched, err)
	}
	if err != nil {
		return answer{}, err
	}
	return reply(fmt.Sprintf("Stopped watching %s: its rules are deleted.", ticker)), nil
}
