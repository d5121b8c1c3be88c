package telegrambot

import (
	"context"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/alertmessage"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// The buttons under an alert (alertmessage.Actions): callback data "snooze:<rule id>" and
// "del:<rule id>".
const (
	snoozeAction = "snooze"
	deleteAction = "del"
)

// chartButtonLabel is the alert messages' "Chart" button, which sends the ticker's 1d chart.
const chartButtonLabel = "Chart"

// Notices of the alert buttons that are not built from the outcome.
const (
	ruleDeletedNotice    = "Alert deleted"
	alreadyDeletedNotice = "Already deleted"
	ruleGoneNotice       = "This alert rule no longer exists"
)

// AlertKeyboard returns the inline keyboard the alert-notifier puts under ev's message: one row with a
// button per alertmessage.Actions ("Snooze 1h", "Delete alert") and "Chart" (callback data
// "chart:<TICKER>": the ticker's 1d chart is sent to the chat), whose presses this webhook serves;
// nil when ev offers none (a symbol-dropped notice, an event without a rule id).
func AlertKeyboard(ev stockalert.AlertEvent) [][]stockalert.ChatButton {
	var row []stockalert.ChatButton
	for _, a := range alertmessage.Actions(ev) {
		var data string
		switch a {
		case alertmessage.ActionSnooze:
			data = snoozeAction + ":" + ev.RuleID
		case alertmessage.ActionDelete:
			data = deleteAction + ":" + ev.RuleID
		default:
			continue
		}
		if len(data) > stockalert.MaxButtonData {
			continue
		}
		row = append(row, stockalert.ChatButton{Text: a.Label(), Data: data})
	}
	if len(row) > 0 && ev.Ticker != "" {
		if data := chartAction + ":" + string(ev.Ticker); len(data) <= stockalert.MaxButtonData {
			row = append(row, stockalert.ChatButton{Text: chartButtonLabel, Data: data})
		}
	}
	if len(row) == 0 {
		return nil
	}
	return [][]stockalert.ChatButton{row}
}

// pressSnooze serves "Snooze 1h": the rule, which must belong to the account linked to the chat the
// button is in, fires no alert for alertmessage.SnoozeFor. A press delivered again finds the snooze
// running and answers the same.
func (h *Webhook) pressSnooze(ctx context.Context, cb callbackRequest) (string, answer, error) {
	now := h.now()
	var until time.Time
	err := h.rules.snooze.Handle(ctx, command.SnoozeRule{ChatID: cb.chatID, RuleID: cb.arg,
		Until: now.Add(alertmessage.SnoozeFor), Snoozed: &until})
	if err != nil {
		return "", answer{}, err
	}
	_, loc, err := h.linkedProfile(ctx, cb.chatID)
	if err != nil {
		return "", answer{}, err
	}
	return snoozeNotice(until, now, loc), answer{}, nil
}

// pressDelete serves "Delete alert": the rule, which must belong to the account linked to the chat the
// button is in, is deleted. A press delivered again (or of a rule deleted meanwhile, or of another
// account's) answers "Already deleted".
func (h *Webhook) pressDelete(ctx context.Context, cb callbackRequest) (string, answer, error) {
	if err := h.rules.delete.Handle(ctx, command.DeleteRule{ChatID: cb.chatID, RuleID: cb.arg}); err != nil {
		return "", answer{}, err
	}
	return ruleDeletedNotice, answer{}, nil
}

// snoozeNotice is the snooze button's answer: "Snoozed until 16:00" in the user's zone, the date too
// when the snooze ends on another day there.
func snoozeNotice(until, now time.Time, loc *time.Location) string {
	return "Snoozed until " + strings.TrimSuffix(formatTimeIn(until, now, loc), " "+until.In(loc).Format("MST"))
}
