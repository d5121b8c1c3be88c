package telegrambot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// historyLength is how many alerts /history shows.
const historyLength = 10

// cmdHistory serves /history [TICKER]: the account's last alerts (on the ticker only when one is
// given), newest first, each with its time in the user's zone, what fired, the price and how its
// delivery went:
//
//	Your last alerts:
//	14:30 UTC AAPL above 200.00 USD, at 201.30 USD: sent
//	2026-03-01 09:15 UTC MSFT down 3% on the day, at 387.10 USD: not delivered (no Telegram chat linked)
//	2026-03-01 09:10 UTC NVDA above 120.00 USD, at 121.00 USD: Telegram sent, e-mail sent, webhook not sent yet
func (h *Webhook) cmdHistory(ctx context.Context, req request) (answer, error) {
	if len(req.args) > 1 {
		return reply("Send /history for your last alerts, or /history AAPL for those about one ticker."), nil
	}
	var ticker string
	if len(req.args) == 1 {
		ticker = strings.ToUpper(req.args[0])
	}
	p, loc, err := h.linkedProfile(ctx, req.chatID)
	if err != nil {
		return answer{}, err
	}
	alerts, err := h.rules.history.Handle(ctx, query.AlertHistory{Email: string(p.Email), Ticker: ticker, Limit: strconv.Itoa(historyLength)})
	if err != nil {
		return answer{}, err
	}
	switch {
	case len(alerts) == 0 && ticker != "":
		return reply(fmt.Sprintf("No alerts about %s yet.", ticker)), nil
	case len(alerts) == 0:
		return reply("No alerts yet. Send /alerts to see your rules."), nil
	}
	now := h.now()
	var b strings.Builder
	if ticker != "" {
		fmt.Fprintf(&b, "Your last alerts about %s:", ticker)
	} else {
		b.WriteString("Your last alerts:")
	}
	for _, a := range alerts {
		fmt.Fprintf(&b, "\n%s %s %s, at %s: %s", formatTimeIn(a.RaisedAt, now, loc), a.Ticker, whatFired(a),
			stockalert.FormatAmount(a.Price, a.Currency), deliveryOutcome(a.Deliveries))
	}
	return reply(b.String()), nil
}

// whatFired says what an alert of the history saw: "above 200.00 USD", "down 3% on the day", "a move
// up of 5% (126.53 USD)".
func whatFired(a query.RaisedAlert) string {
	side := "above"
	way := "up"
	if a.Condition == stockalert.Below {
		side, way = "below", "down"
	}
	pct := strconv.FormatFloat(a.Percent, 'f', -1, 64) + "%"
	level := stockalert.FormatPrice(a.Threshold)
	if a.Currency != "" {
		level += " " + a.Currency
	}
	switch a.Kind {
	case stockalert.KindChangePct:
		return way + " " + pct + " on the day"
	case stockalert.KindMovePct:
		return fmt.Sprintf("a move %s of %s (%s)", way, pct, level)
	case stockalert.KindRange, stockalert.KindAbove, stockalert.KindBelow, "":
		if a.Condition == stockalert.Above || a.Condition == stockalert.Below {
			return side + " " + level
		}
	}
	return string(a.Condition)
}

// deliveryOutcome says how an alert's delivery went: "sent", "not sent yet", or "not delivered (why)";
// for an alert that went to more than one channel, each channel's: "Telegram sent, e-mail not delivered
// (why)".
func deliveryOutcome(ds []query.Delivery) string {
	switch len(ds) {
	case 0:
		return "not sent yet"
	case 1:
		return outcomeWords(ds[0])
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = channelWords(d.Channel) + " " + outcomeWords(d)
	}
	return strings.Join(parts, ", ")
}

func outcomeWords(d query.Delivery) string {
	switch d.Outcome {
	case query.OutcomeSent:
		return "sent"
	case query.OutcomeUndeliverable:
		if d.Reason != "" {
			return "not delivered (" + d.Reason + ")"
		}
		return "not delivered"
	}
	return "not sent yet"
}

// channelWords names a channel in a chat reply.
func channelWords(c string) string {
	switch stockalert.Channel(c) {
	case stockalert.ChannelTelegram:
		return "Telegram"
	case stockalert.ChannelEmail:
		return "e-mail"
	}
	return c
}
