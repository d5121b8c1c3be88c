package telegrambot

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// watchUsage shows the forms of /watch; errorReply sends it after what was wrong.
const watchUsage = `Send /watch with a ticker and a condition, and once at the end for an alert that fires only once:
/watch AAPL above 200
/watch AAPL below 150
/watch AAPL 150 200 (a range: below 150 or above 200)
/watch MSFT change 3% (the day change from the previous close; add up or down for one side)
/watch NVDA move 5% (from the latest price; add from 120.50 to give the price yourself)
/watch AAPL above 200 once
/watch AAPL above 200 via email,webhook (only to these channels; see /channels)`

// numberPattern is a price or a percent as users type them: digits with an optional decimal point.
var numberPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// watchRequest is a parsed /watch: a rule, or a range to put (replacing the ticker's range).
type watchRequest struct {
	rule stockalert.Rule
	// putRange: a range without once goes through Subscribe, which replaces the ticker's range.
	putRange bool
}

// badWatch is a /watch that does not parse; errorReply answers reason then watchUsage.
func badWatch(format string, args ...any) error {
	return stockalert.Invalid("watch", format, args...)
}

// parseWatch reads /watch's arguments (see watchUsage). Levels and percents must be plain decimal
// numbers; their bounds are the rule's to check (stockalert.Rule.Validate).
func parseWatch(args []string) (watchRequest, error) {
	if len(args) == 0 {
		return watchRequest{}, badWatch("Which ticker, and when should I alert you?")
	}
	r := stockalert.Rule{Ticker: stockalert.Ticker(strings.ToUpper(args[0]))}
	rest := args[1:]
	if n := len(rest); n >= 2 && strings.EqualFold(rest[n-2], "via") {
		cs, err := stockalert.ParseChannels("channels", strings.Split(strings.ToLower(rest[n-1]), ","))
		if err != nil {
			v, _ := stockalert.AsValidation(err)
			return watchRequest{}, badWatch("After via come channels: telegram, email or webhook, separated by commas (%s).", v.Reason)
		}
		r.Channels, rest = cs, rest[:n-2]
	}
	if n := len(rest); n > 0 && strings.EqualFold(rest[n-1], "once") {
		r.Repeat, rest = stockalert.RepeatOnce, rest[:n-1]
	}
	if len(rest) == 0 {
		return watchRequest{}, badWatch("When should I alert you about %s?", r.Ticker)
	}
	word := strings.ToLower(rest[0])
	switch {
	case word == "above" || word == "below":
		if len(rest) != 2 {
			return watchRequest{}, badWatch("%s takes one price.", strings.ToUpper(word[:1])+word[1:])
		}
		level, err := number(rest[1], "price")
		if err != nil {
			return watchRequest{}, err
		}
		r.Kind, r.Level = stockalert.KindAbove, level
		if word == "below" {
			r.Kind = stockalert.KindBelow
		}
	case word == "change":
		if len(rest) < 2 || len(rest) > 3 {
			return watchRequest{}, badWatch("Change takes a percent and, if you like, up or down.")
		}
		pct, err := number(strings.TrimSuffix(rest[1], "%"), "percent")
		if err != nil {
			return watchRequest{}, err
		}
		r.Kind, r.Percent = stockalert.KindChangePct, pct
		if len(rest) == 3 {
			switch d := stockalert.Direction(strings.ToLower(rest[2])); d {
			case stockalert.DirectionUp, stockalert.DirectionDown:
				r.Direction = d
			default:
				return watchRequest{}, badWatch("%q is not up or down.", rest[2])
			}
		}
	case word == "move":
		if len(rest) != 2 && (len(rest) != 4 || !strings.EqualFold(rest[2], "from")) {
			return watchRequest{}, badWatch("Move takes a percent and, if you like, from and a price.")
		}
		pct, err := number(strings.TrimSuffix(rest[1], "%"), "percent")
		if err != nil {
			return watchRequest{}, err
		}
		r.Kind, r.Percent = stockalert.KindMovePct, pct
		if len(rest) == 4 {
			if r.Reference, err = number(rest[3], "price"); err != nil {
				return watchRequest{}, err
			}
			if r.Reference == 0 { // a zero reference means "from the latest price" to CreateRule
				return watchRequest{}, badWatch("The price after from must be greater than 0.")
			}
		}
	case numberPattern.MatchString(rest[0]):
		if len(rest) != 2 {
			return watchRequest{}, badWatch("A range takes two prices, the low then the high.")
		}
		low, _ := number(rest[0], "price")
		high, err := number(rest[1], "price")
		if err != nil {
			return watchRequest{}, err
		}
		r.Kind, r.Thresholds = stockalert.KindRange, stockalert.Thresholds{High: stockalert.Float(high), Low: stockalert.Float(low)}
		if r.Channels != nil && r.Repeat != stockalert.RepeatOnce {
			return watchRequest{}, badWatch("A range that replaces your range on %s goes to all your channels: "+
				"use above and below rules to choose channels.", r.Ticker)
		}
		return watchRequest{rule: r, putRange: r.Repeat != stockalert.RepeatOnce}, nil
	default:
		return watchRequest{}, badWatch("I don't know the condition %q.", rest[0])
	}
	return watchRequest{rule: r}, nil
}

// number reads a plain decimal number; what names it in the error.
func number(s, what string) (float64, error) {
	if !numberPattern.MatchString(s) || len(s) > 24 {
		return 0, badWatch("%q is not a %s: write it like 150 or 120.50.", s, what)
	}
	return strconv.ParseFloat(s, 64)
}

// cmdWatch serves /watch: it adds the rule through the same use cases as the HTTP API (CreateRule; a
// range without once through Subscribe, replacing the ticker's range as PUT …/tickers/{ticker} does),
// with the same checks (the symbol against the quote source, the rule limit), then answers with the
// rule and the ticker's latest recorded price.
func (h *Webhook) cmdWatch(ctx context.Context, req request) (answer, error) {
	w, err := parseWatch(req.args)
	if err != nil {
		return answer{}, err
	}
	p, loc, err := h.linkedProfile(ctx, req.chatID)
	if err != nil {
		return answer{}, err
	}
	var (
		created    stockalert.Rule
		unverified bool
	)
	if same, ok, err := h.sameLiveRule(ctx, p.Email, w.rule); err != nil {
		return answer{}, err
	} else if ok {
		// The same /watch again (Telegram delivers an update again when its reply failed): no twin.
		return h.watchReply(ctx, p.Email, loc, same, false)
	}
	if w.putRange {
		err = h.rules.subscribe.Handle(ctx, command.Subscribe{Email: string(p.Email), Ticker: string(w.rule.Ticker),
			Thresholds: w.rule.Thresholds, Unverified: &unverified})
		created = w.rule
	} else {
		err = h.rules.create.Handle(ctx, command.CreateRule{Email: string(p.Email), Rule: w.rule, Created: &created, Unverified: &unverified})
	}
	if err != nil {
		return answer{}, err
	}
	return h.watchReply(ctx, p.Email, loc, created, unverified)
}

// sameLiveRule finds a rule of the user that is not done and watches what r would.
func (h *Webhook) sameLiveRule(ctx context.Context, email stockalert.Email, r stockalert.Rule) (stockalert.Rule, bool, error) {
	views, err := h.rules.list.Handle(ctx, query.Rules{Email: string(email), Ticker: string(r.Ticker)})
	if err != nil {
		return stockalert.Rule{}, false, err
	}
	want := r.Normalized()
	for _, v := range views {
		got := v.Rule
		if v.State == stockalert.RuleDone || got.Kind != want.Kind || got.Repeat != want.Repeat || got.Level != want.Level ||
			got.Percent != want.Percent || got.Direction != want.Direction || !got.Thresholds.Equal(want.Thresholds) ||
			(want.Reference != 0 && got.Reference != want.Reference) || !slices.Equal(got.Channels, want.Channels) {
			continue
		}
		return got, true, nil
	}
	return stockalert.Rule{}, false, nil
}

// watchReply answers /watch with the rule and its ticker's latest recorded price.
func (h *Webhook) watchReply(ctx context.Context, email stockalert.Email, loc *time.Location, created stockalert.Rule, unverified bool) (answer, error) {
	v, err := h.viewOf(ctx, email, created)
	if err != nil {
		return answer{}, err
	}
	now := h.now()
	var b strings.Builder
	currency := ""
	if v.Quote != nil {
		currency = v.Quote.Currency
	}
	fmt.Fprintf(&b, "Rule %s: %s %s.", stockalert.RuleIDString(v.Rule.ID), v.Rule.Ticker, ruleWhat(v.Rule, currency))
	if v.Rule.Channels != nil {
		names := make([]string, len(v.Rule.Channels))
		for i, c := range v.Rule.Channels {
			names[i] = channelWords(string(c))
		}
		fmt.Fprintf(&b, "\nIts alerts go to %s only.", strings.Join(names, " and "))
	}
	if v.Quote != nil {
		fmt.Fprintf(&b, "\nLast price: %s.", recordedQuoteLine(*v.Quote, v.Stale, now, loc))
	} else {
		fmt.Fprintf(&b, "\nNo price of %s is recorded yet: it comes with the next price check.", v.Rule.Ticker)
	}
	if unverified {
		fmt.Fprintf(&b, "\nThe quote source could not be reached to check %s: if it turns out not to be a symbol it knows, "+
			"the rule is dropped at a later price check and I will tell you here.", v.Rule.Ticker)
	}
	b.WriteString("\nSend /alerts to see your rules, /delete " + stockalert.RuleIDString(v.Rule.ID) + " to remove this one.")
	return reply(b.String()), nil
}
