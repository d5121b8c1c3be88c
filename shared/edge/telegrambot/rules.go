package telegrambot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// ruleHandlers are the use cases behind the rules in the chat and the alert buttons.
type ruleHandlers struct {
	create      command.CreateRuleHandler
	subscribe   command.SubscribeHandler
	delete      command.DeleteRuleHandler
	unsubscribe command.UnsubscribeHandler
	snooze      command.SnoozeRuleHandler
	list        query.RulesHandler
	history     query.AlertHistoryHandler
}

// Errors the rule commands mark their outcomes with, for errorReply.
var (
	// errNoSuchRule: /delete named an id that is none of the account's rules.
	errNoSuchRule = errors.New("no such rule")
	// errNotWatched: /unwatch named a ticker the account has no rule on.
	errNotWatched = errors.New("no rule on the ticker")
)

// linkedProfile returns the profile of the account linked to the chat (stockalert.ErrNotFound when
// none is) and the zone its times are shown in.
func (h *Webhook) linkedProfile(ctx context.Context, chatID int64) (query.Profile, *time.Location, error) {
	st, err := h.status.Handle(ctx, query.ChatProfile{ChatID: chatID})
	if err != nil {
		return query.Profile{}, nil, err
	}
	return st.Profile, stockalert.LoadZone(st.Profile.TimeZone), nil
}

// viewOf returns the view of rule id among the user's rules on ticker (a view of nothing but the rule
// when it is not found, say deleted meanwhile).
func (h *Webhook) viewOf(ctx context.Context, email stockalert.Email, r stockalert.Rule) (query.RuleView, error) {
	views, err := h.rules.list.Handle(ctx, query.Rules{Email: string(email), Ticker: string(r.Ticker)})
	if err != nil {
		return query.RuleView{}, err
	}
	for _, v := range views {
		if v.Rule.ID == r.ID || (r.ID == 0 && r.Kind == stockalert.KindRange && v.Rule.Kind == stockalert.KindRange) {
			return v, nil
		}
	}
	return query.RuleView{Rule: r, State: stockalert.RuleArmed}, nil
}

// ruleWhat says what a rule watches, levels in the quote's currency when it is known:
//
//	above 200.00 USD
//	below 150.00 USD
//	below 150.00 or above 200.00 USD       (a range; one side alone reads as above or below)
//	up 3% on the day                         (change_pct; "down", or "3% up or down on the day")
//	a move of 5% up or down from 120.50 USD  (move_pct; "a move up of 5% from …")
//
// and ", once" for a rule that fires once.
func ruleWhat(r stockalert.Rule, currency string) string {
	unit := ""
	if currency != "" {
		unit = " " + currency
	}
	pct := strconv.FormatFloat(r.Percent, 'f', -1, 64) + "%"
	var s string
	switch r.Kind {
	case stockalert.KindRange:
		high, low := r.Thresholds.High, r.Thresholds.Low
		switch {
		case high != nil && low != nil:
			s = fmt.Sprintf("below %s or above %s%s", stockalert.FormatPrice(*low), stockalert.FormatPrice(*high), unit)
		case high != nil:
			s = "above " + stockalert.FormatPrice(*high) + unit
		case low != nil:
			s = "below " + stockalert.FormatPrice(*low) + unit
		}
	case stockalert.KindAbove:
		s = "above " + stockalert.FormatPrice(r.Level) + unit
	case stockalert.KindBelow:
		s = "below " + stockalert.FormatPrice(r.Level) + unit
	case stockalert.KindChangePct:
		switch r.Normalized().Direction {
		case stockalert.DirectionUp:
			s = "up " + pct + " on the day"
		case stockalert.DirectionDown:
			s = "down " + pct + " on the day"
		default:
			s = pct + " up or down on the day"
		}
	case stockalert.KindMovePct:
		from := stockalert.FormatPrice(r.Reference) + unit
		switch r.Normalized().Direction {
		case stockalert.DirectionUp:
			s = "a move up of " + pct + " from " + from
		case stockalert.DirectionDown:
			s = "a move down of " + pct + " from " + from
		default:
			s = "a move of " + pct + " up or down from " + from
		}
	default:
		s = string(r.Kind)
	}
	if r.Repeat == stockalert.RepeatOnce {
		s += ", once"
	}
	return s
}

// recordedQuoteLine writes a recorded quote: "201.30 USD (+1.25% today) at 14:30 UTC", with " (stale)" when it
// is older than the freshness allows; times in loc.
func recordedQuoteLine(q stockalert.Quote, stale bool, now time.Time, loc *time.Location) string {
	var b strings.Builder
	b.WriteString(stockalert.FormatAmount(q.Price, q.Currency))
	if pct, ok := q.DayChangePercent(); ok {
		when := "today"
		if !sameDay(q.Time, now, loc) {
			when = "on the day"
		}
		fmt.Fprintf(&b, " (%+.2f%% %s)", pct, when)
	}
	b.WriteString(" at " + formatTimeIn(q.Time, now, loc))
	if stale {
		b.WriteString(" (stale)")
	}
	return b.String()
}

// ruleState says where a rule stands at now: "armed", "triggered since 14:05 UTC" or "done", then
// ", snoozed until 16:00 UTC" while it is snoozed.
func ruleState(v query.RuleView, now time.Time, loc *time.Location) string {
	s := string(v.State)
	if v.State == stockalert.RuleTriggered && !v.Rule.BreachedSince.IsZero() {
		s = "triggered since " + formatTimeIn(v.Rule.BreachedSince, now, loc)
	}
	if v.State != stockalert.RuleDone && v.Rule.SnoozedAt(now) {
		s += ", snoozed until " + formatTimeIn(v.Rule.SnoozedUntil, now, loc)
	}
	return s
}
