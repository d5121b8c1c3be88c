package telegrambot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// What the bot says. Replies are plain text (Send uses no parse mode), so nothing needs escaping.
//
// errorReply is the one place where an error becomes a reply. Two cases need care because Telegram
// delivers an update again until the webhook answers 2xx:
//
//   - A fault on our side (the database is down) gets faultText and a 5xx, so the update comes back
//     and the command runs again once the fault is gone. The webhook remembers the last update ids it
//     apologised for, so a redelivery that fails again says nothing more: the user reads one apology,
//     then the real answer. (Per process: with several replicas a user may read one apology from each.)
//   - /start is the one command that cannot simply run twice, since the code is used up by the first
//     run. If its reply failed and the update comes back, the code is "unknown" now; the webhook then
//     looks the chat up and, finding it linked, answers alreadyLinkedText rather than an error.
//
// Every other command is idempotent (/set, /stop, /resume set a value; /status reads).

// welcomeText opens /start in a chat not linked to an account; the command list follows it.
const welcomeText = `Welcome to StockAlert! I watch stock prices for you and send you a message here when one crosses a level you chose.

To begin:
1. /register <email> creates your account, bound to this chat (add a ticker to watch it at once: /register pat@example.com AAPL).
2. /watch sets your first alert, e.g. /watch AAPL above 200.

Registered through the API already? Send /start <code> with the link code from your registration.`

const setUsage = `/set takes a whole number of seconds from 0 to 2592000 (30 days): the least time between two alerts about a ticker that stays out of range. For example /set 3600 for at most one an hour, or /set 0 for every price check.`

const (
	unknownCodeText = "That link code is unknown or already used: each code links one chat, once. " +
		"Get a new one with POST /users/{email}/telegram-link, then send /start <new code>."
	badCodeText = "That does not look like a link code. Send /start followed by the code from your registration " +
		"(letters, digits, - and _), or open the Telegram link it came with."
	notLinkedText = "This chat is not linked to an account yet. Open the Telegram link from your registration, " +
		"or send /start <code> with the link code it gave you."
	faultText = "Sorry, something went wrong on our side. Your command will be retried automatically in a moment: " +
		"no need to send it again."
	refusedText     = "That did not work. Send /help for the commands."
	privateOnlyText = "Send that command in a private chat with me: its answer is for your eyes only."
)

// errorReply maps an error of a command to the reply. fault is true for a failure on our side: the
// webhook then answers 5xx so that Telegram delivers the update again.
func errorReply(cmd botCommand, err error) (text string, fault bool) {
	if v, ok := stockalert.AsValidation(err); ok {
		switch v.Field {
		case "interval":
			var hint *intervalHint
			if errors.As(err, &hint) {
				return fmt.Sprintf("%s is %d seconds: send /set %d\n\n%s", hint.given, hint.seconds, hint.seconds, setUsage), false
			}
			return setUsage, false
		case "code":
			return badCodeText, false
		case "watch":
			return v.Reason + "\n\n" + watchUsage, false
		case "register":
			return registerUsage, false
		case "email":
			return fmt.Sprintf("That e-mail address did not work: %s. Send /register followed by your e-mail, "+
				"e.g. /register pat@example.com.", v.Reason), false
		case "time_zone":
			return fmt.Sprintf("%s is not a time zone I know. %s", strings.Join(cmd.args, " "), tzUsage), false
		case "quiet_hours":
			return quietUsage, false
		case "range":
			return fmt.Sprintf("%s is not a chart range. %s", strings.Join(cmd.args[min(1, len(cmd.args)):], " "), chartUsage), false
		case "tickers":
			if len(cmd.args) == 0 {
				return priceUsage, false
			}
			return fmt.Sprintf("/price takes at most %d symbols at a time: ask for the others in another /price.", query.MaxQuotesPerAsk), false
		case "level", "high_value", "low_value", "reference", "percent":
			if cmd.name == "watch" {
				return watchValueText(cmd, v), false
			}
		}
		return fmt.Sprintf("That did not work: %s. Send /help for the commands.", plainReason(v)), false
	}
	switch {
	case errors.Is(err, stockalert.ErrNotFound) && cmd.name == "button:"+deleteAction:
		return alreadyDeletedNotice, false
	case errors.Is(err, stockalert.ErrNotFound) && cmd.name == "button:"+snoozeAction:
		return ruleGoneNotice, false
	case errors.Is(err, errNoSuchRule):
		return fmt.Sprintf("You have no rule %s. Send /alerts to see your rules and their ids.", strings.Join(cmd.args, " ")), false
	case errors.Is(err, errNotWatched):
		return fmt.Sprintf("You have no rules on %s. Send /alerts to see your rules.", strings.ToUpper(strings.Join(cmd.args, " "))), false
	case errors.Is(err, stockalert.ErrConflict) && cmd.name == "watch":
		return "You already have a range on that ticker, and a range that fires once cannot replace it: " +
			"send the range without once to change it, or /delete the old one first.", false
	case errors.Is(err, errNotAdmin):
		return notAdminText, false
	case errors.Is(err, errPrivateOnly):
		return privateOnlyText, false
	case errors.Is(err, stockalert.ErrNotFound) && (cmd.name == "start" || cmd.name == "button:"+relinkAction):
		return unknownCodeText, false
	case errors.Is(err, stockalert.ErrNotFound):
		return notLinkedText, false
	case isConflict(err, "telegram_chat_id"):
		return chatTakenText, false
	case isConflict(err, "email"):
		return emailTakenText, false
	case stockalert.IsClientError(err):
		return refusedText, false
	}
	return faultText, true
}

// fieldWords name the API's fields (stockalert.ValidationError.Field) as the chat's commands call them.
var fieldWords = map[string]string{
	"ticker": "the ticker", "level": "the price", "high_value": "the high price", "low_value": "the low price",
	"reference": "the price after from", "percent": "the percent",
}

// plainReason writes a validation error in plain words, without the API's field name ("invalid
// reference: …"): a reason that needs its subject ("is longer than 16 characters") gets the field's
// word ("the ticker is longer than 16 characters"); one that names it already is kept as it is.
func plainReason(v *stockalert.ValidationError) string {
	reason := strings.ReplaceAll(v.Reason, fmt.Sprintf("%g", float64(stockalert.MaxThreshold)),
		strconv.FormatFloat(stockalert.MaxThreshold, 'f', -1, 64))
	if !strings.HasPrefix(reason, "is ") && !strings.HasPrefix(reason, "must ") {
		return reason
	}
	word, ok := fieldWords[v.Field]
	if !ok {
		word = "the " + strings.ReplaceAll(v.Field, "_", " ")
	}
	return word + " " + reason
}

// watchValueText answers a /watch whose values parsed but that the rule refused (stockalert.Rule
// Validate, or CreateRule when a move has no price to start from), in the words of /watch.
func watchValueText(cmd botCommand, v *stockalert.ValidationError) string {
	switch {
	case v.Field == "reference" && strings.HasPrefix(v.Reason, "is required"):
		ticker := "NVDA"
		if len(cmd.args) > 0 {
			ticker = strings.ToUpper(cmd.args[0])
		}
		return fmt.Sprintf("No price of %s is recorded yet, so a move has nothing to start from: give the price yourself, "+
			"e.g. /watch %s move 5%% from 120.50.", ticker, ticker)
	case v.Field == "high_value" && strings.Contains(v.Reason, "low_value"):
		return "A range takes the low price first, then a higher high price: /watch AAPL 150 200.\n\n" + watchUsage
	}
	text := plainReason(v)
	return strings.ToUpper(text[:1]) + text[1:] + ".\n\n" + watchUsage
}

// isConflict reports whether err is a *stockalert.ConflictError naming field.
func isConflict(err error, field string) bool {
	c, ok := errors.AsType[*stockalert.ConflictError](err)
	return ok && c.Field == field
}

const (
	registerUsage = "/register takes your e-mail address and, if you like, one ticker to watch: " +
		"/register pat@example.com or /register pat@example.com AAPL."
	emailTakenText = "That e-mail address is already registered. If it is yours, link this chat with /start <code> " +
		"and the link code from your registration (POST /users/{email}/telegram-link gives a new one)."
	chatTakenText = "This chat is already linked to an account: send /status to see which. One chat gets the alerts of one account."
	tokenNote     = "keep it: it is your key to the HTTP API. I show it once; /token gives you a new one and revokes this one." //nolint:gosec // G101: a sentence about the token, not a credential
)

// registeredText answers /register: the account, what it watches, and the API token when token is
// not empty (private chats only).
func registeredText(p query.Profile, token string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Registered %s: its alerts will come to this chat.", p.Email)
	if len(p.Subscriptions) > 0 {
		fmt.Fprintf(&b, " You watch %s (no alert level yet).", tickerList(p))
	}
	if token != "" {
		fmt.Fprintf(&b, "\n\nYour API token: %s\n(%s)", token, tokenNote)
	} else {
		b.WriteString("\n\nI never show an API token in a group. You need none to use me: " +
			"the commands here do what the HTTP API does.")
	}
	b.WriteString("\n\nNext: set an alert with /watch, e.g. /watch AAPL above 200. /help lists the commands.")
	return b.String()
}

// registeredBeforeText answers a /register in a chat linked already: to the account it names (the
// same /register delivered again) or to another one.
func registeredBeforeText(linked, asked stockalert.Email, private bool) string {
	if linked != asked {
		return fmt.Sprintf("This chat is already linked to %s: one chat gets the alerts of one account. "+
			"Register the other address from another chat.", linked)
	}
	text := fmt.Sprintf("This chat is registered as %s already.", linked)
	if private {
		text += " Lost your API token? /token gives you a new one."
	}
	return text
}

// newTokenText answers /token.
func newTokenText(email stockalert.Email, token string) string {
	return fmt.Sprintf("Your new API token for %s: %s\n(%s)\n\nThe previous token no longer works.", email, token, tokenNote)
}

// relinkQuestionText asks whether a chat linked to linked should get the alerts of holder instead.
func relinkQuestionText(linked, holder stockalert.Email) string {
	return fmt.Sprintf("This chat gets the alerts of %s. Link it to %s instead? It would then get only the alerts of %s, "+
		"and %s would have no chat until it links one again.", linked, holder, holder, linked)
}

// movedAwayText tells the chat an account was linked to before that the account moved to another chat.
func movedAwayText(email stockalert.Email) string {
	return fmt.Sprintf("This chat no longer gets the alerts of %s: it was linked to another chat.", email)
}

func unknownCommandText(name string) string {
	return fmt.Sprintf("I don't know /%s. Send /help for the commands.", name)
}

func linkedText(p query.Profile) string {
	var b strings.Builder
	switch {
	case len(p.Subscriptions) == 0 && p.OtherRules == 0:
		fmt.Fprintf(&b, "Linked to %s. You watch no tickers yet: set an alert with /watch, e.g. /watch AAPL above 200.", p.Email)
	case len(p.Subscriptions) == 0:
		fmt.Fprintf(&b, "Linked to %s: you will get the alerts of your %s here.", p.Email, plural(p.OtherRules, "alert rule"))
	default:
		fmt.Fprintf(&b, "Linked to %s: you will get alerts for %s here.", p.Email, tickerList(p))
	}
	if p.Paused {
		b.WriteString(" Alerts are paused: send /resume to get them.")
	}
	b.WriteString(" Send /status to see your thresholds, /help for the commands.")
	return b.String()
}

func alreadyLinkedText(p query.Profile) string {
	what := "no tickers yet"
	if len(p.Subscriptions) > 0 {
		what = "alerts for " + tickerList(p)
	}
	return fmt.Sprintf("That link code is unknown or already used, but this chat is already linked to %s (%s). Send /status for details.", p.Email, what)
}

func tickerList(p query.Profile) string {
	names := make([]string, len(p.Subscriptions))
	for i, s := range p.Subscriptions {
		names[i] = string(s.Ticker)
	}
	return strings.Join(names, ", ")
}

func intervalSetText(d time.Duration) string {
	if d == 0 {
		return "Done: while a ticker stays out of range, you will get an alert at every price check."
	}
	return fmt.Sprintf("Done: while a ticker stays out of range, you will get at most one alert about it every %s.", formatInterval(d))
}

func pausedText(paused bool) string {
	if paused {
		return "Alerts paused. Send /resume to get them again."
	}
	return "Alerts resumed. A ticker that is out of range will alert you at the next price check."
}

// statusText renders /status: the account, whether alerts are on and how often they repeat, then one
// line per ticker. Lines that would take the message over Telegram's limit are summed up at the end.
//
//	Account: pat@example.com
//	Alerts: on
//	Repeat alerts: at most every 1h while a ticker stays out of range
//
//	AAPL: above 200.00 USD / below 150.00 USD, last 201.30 USD (+1.25% today) at 14:30 UTC
//	VOD.L: above 80.00 GBp, last 72.50 GBp (pence) (-2.05% today) at 14:29 UTC
//	OLD.L: no thresholds, last 12.30 GBp (pence) at 2025-10-02 14:30 UTC (stale: no trade for 151 days, …)
//	MSFT: below 400.00 USD, last 498.20 USD (simulated) at 14:30 UTC
//	MSFT: above 400.00, no price yet
//
// The currency code is shown exactly as quoted (GBp is pence, GBP pounds) and thresholds are in that
// unit; the day change from the previous close follows the price when it is known ("today" for a
// price of today, "on the day" for an older one); a price older than the status handler's
// query.Freshness is flagged stale. Times and days are the user's time zone's (Profile.TimeZone, set
// with /tz; UTC by default), with the zone's abbreviation (14:30 UTC, 15:30 CET).
func statusText(st query.ChatStatus, now time.Time) string {
	p := st.Profile
	loc := stockalert.LoadZone(p.TimeZone)
	var b strings.Builder
	fmt.Fprintf(&b, "Account: %s\n", p.Email)
	if p.Paused {
		b.WriteString("Alerts: paused (send /resume to turn them back on)\n")
	} else {
		b.WriteString("Alerts: on\n")
	}
	if p.NotifyInterval == 0 {
		b.WriteString("Repeat alerts: at every price check while a ticker stays out of range\n")
	} else {
		fmt.Fprintf(&b, "Repeat alerts: at most every %s while a ticker stays out of range\n", formatInterval(p.NotifyInterval))
	}
	b.WriteString("\n")
	if len(p.Subscriptions) == 0 && p.OtherRules == 0 {
		b.WriteString("You watch no tickers.")
		return b.String()
	}
	// Bytes bound UTF-16 code units from above, so counting bytes keeps us under the limit.
	const room = maxMessageLen - 64
	for i, s := range p.Subscriptions {
		line := subscriptionLine(s, st.Prices, now, loc)
		if b.Len()+len(line)+1 > room {
			fmt.Fprintf(&b, "… and %d more tickers", len(p.Subscriptions)-i)
			break
		}
		b.WriteString(line)
		if i < len(p.Subscriptions)-1 {
			b.WriteString("\n")
		}
	}
	if p.OtherRules > 0 {
		besides := ""
		if len(p.Subscriptions) > 0 {
			b.WriteString("\n")
			besides = " besides these ranges"
		}
		fmt.Fprintf(&b, "%s%s (price levels and percent moves): /alerts lists them.",
			plural(p.OtherRules, "alert rule"), besides)
	}
	return b.String()
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func subscriptionLine(s query.Subscription, prices map[stockalert.Ticker]query.Price, now time.Time, loc *time.Location) string {
	// Thresholds are in the unit the ticker is quoted in: they carry its code once a price is known.
	price, ok := prices[s.Ticker]
	unit := ""
	if ok && price.Currency != "" {
		unit = " " + price.Currency
	}
	var bounds []string
	if s.Thresholds.High != nil {
		bounds = append(bounds, "above "+stockalert.FormatPrice(*s.Thresholds.High)+unit)
	}
	if s.Thresholds.Low != nil {
		bounds = append(bounds, "below "+stockalert.FormatPrice(*s.Thresholds.Low)+unit)
	}
	th := "no thresholds"
	if len(bounds) > 0 {
		th = strings.Join(bounds, " / ")
	}
	if !ok {
		return fmt.Sprintf("%s: %s, no price yet", s.Ticker, th)
	}
	simulated := ""
	if price.Simulated {
		simulated = " (simulated)"
	}
	line := fmt.Sprintf("%s: %s, last %s%s%s at %s", s.Ticker, th, stockalert.FormatAmount(price.Price, price.Currency),
		dayChange(price, now, loc), simulated, formatTimeIn(price.Time, now, loc))
	if price.Stale {
		line += fmt.Sprintf(" (stale: no trade for %s, the symbol may be renamed or delisted; no alerts until it trades again)",
			formatAge(now.Sub(price.Time)))
	}
	return line
}

// dayChange writes the price's change from the previous close in percent, " (+1.25% today)", or ""
// when it is unknown. A price of an earlier day (in the user's zone loc) had its change "on the day".
func dayChange(p query.Price, now time.Time, loc *time.Location) string {
	pct, known := p.DayChangePercent()
	if !known {
		return ""
	}
	return fmt.Sprintf(" (%+.2f%% %s)", pct, dayWord(p.Time, now, loc))
}

// formatAge writes an age in whole days, or hours under two days: 181 days, 30 hours.
func formatAge(d time.Duration) string {
	if d < 48*time.Hour {
		return fmt.Sprintf("%d hours", int64(d/time.Hour))
	}
	return fmt.Sprintf("%d days", int64(d/(24*time.Hour)))
}

// formatInterval writes whole days, hours, minutes and seconds: 1h, 1h30m, 45s, 30d.
func formatInterval(d time.Duration) string {
	s := int64(d / time.Second)
	if s <= 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}} {
		if n := s / u.size; n > 0 {
			b.WriteString(strconv.FormatInt(n, 10) + u.suffix)
			s %= u.size
		}
	}
	return b.String()
}
