package telegrambot

import (
	"context"
	"fmt"
	"strings"

	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// cmdAlerts serves /alerts: the account's rules by ticker, each ticker with its latest recorded price
// and each rule with its id, what it watches and its state, times in the user's zone:
//
//	Your alert rules:
//	AAPL, last 201.30 USD (+1.25% today) at 14:30 UTC
//	#12 above 200.00 USD: triggered since 14:05 UTC
//	#13 below 150.00 USD, once: armed, snoozed until 16:00 UTC
//	MSFT, no price yet
//	#14 down 3% on the day: armed
//
//	Remove one with /delete <id>, or every rule on a ticker with /unwatch <TICKER>.
//
// A list past Telegram's message length is sent in several messages (the webhook splits between lines).
func (h *Webhook) cmdAlerts(ctx context.Context, req request) (answer, error) {
	p, loc, err := h.linkedProfile(ctx, req.chatID)
	if err != nil {
		return answer{}, err
	}
	views, err := h.rules.list.Handle(ctx, query.Rules{Email: string(p.Email)})
	if err != nil {
		return answer{}, err
	}
	if len(views) == 0 {
		return reply("You have no alert rules. Add one with /watch, for example /watch AAPL above 200."), nil
	}
	now := h.now()
	var b strings.Builder
	b.WriteString("Your alert rules:")
	var ticker stockalert.Ticker
	for _, v := range views {
		currency := ""
		if v.Quote != nil {
			currency = v.Quote.Currency
		}
		if v.Rule.Ticker != ticker {
			ticker = v.Rule.Ticker
			if v.Quote != nil {
				fmt.Fprintf(&b, "\n%s, last %s", ticker, recordedQuoteLine(*v.Quote, v.Stale, now, loc))
			} else {
				fmt.Fprintf(&b, "\n%s, no price yet", ticker)
			}
		}
		fmt.Fprintf(&b, "\n#%s %s: %s", stockalert.RuleIDString(v.Rule.ID), ruleWhat(v.Rule, currency), ruleState(v, now, loc))
	}
	b.WriteString("\n\nRemove one with /delete <id>, or every rule on a ticker with /unwatch <TICKER>.")
	return reply(b.String()), nil
}
