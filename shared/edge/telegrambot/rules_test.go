package telegrambot_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

// linked registers email with no ticker and links chat to it.
func (b *bot) linked(chat int64, email string) {
	b.t.Helper()
	code := b.registerUser(email, "", stockalert.Thresholds{})
	require.Contains(b.t, b.say(chat, "/start "+code), "Linked to "+email)
}

// ruleIDsOf returns the ids of email's rules, in order.
func (b *bot) ruleIDsOf(email string) []string {
	b.t.Helper()
	views, err := query.NewRulesHandler(b.store, query.Freshness{Now: func() time.Time { return now }}, nil, nil).
		Handle(b.ctx, query.Rules{Email: email})
	require.NoError(b.t, err)
	out := make([]string, len(views))
	for i, v := range views {
		out[i] = stockalert.RuleIDString(v.Rule.ID)
	}
	return out
}

// press delivers a button press from chat and returns the status, the notice it was answered with and
// the messages sent meanwhile.
func (b *bot) press(chat, from int64, data string) (int, string, []telegramtest.SentMessage) {
	b.t.Helper()
	upd := telegramtest.CallbackUpdate(chat, from, 7, data)
	return b.pressRaw(upd)
}

func (b *bot) pressRaw(upd []byte) (int, string, []telegramtest.SentMessage) {
	b.t.Helper()
	before := len(b.fake.CallbackAnswers())
	status, sent := b.deliverRaw(upd)
	answers := b.fake.CallbackAnswers()[before:]
	require.Len(b.t, answers, 1, "every press is answered once")
	return status, answers[0].Text, sent
}

func TestWatchAddsEachKindOfRuleAndAnswersWithTheLatestPrice(t *testing.T) {
	b := newBot(t)
	b.linked(42, "pat@example.com")
	b.recordPrice("AAPL", 201.3, time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC))

	require.Equal(t, "Rule 1: AAPL above 200.00 USD.\nLast price: 201.30 USD at 14:30 UTC.\nSend /alerts to see your rules, /delete 1 to remove this one.",
		b.say(42, "/watch aapl above 200"))
	require.Equal(t, "Rule 2: AAPL below 150.00 or above 250.00 USD.\nLast price: 201.30 USD at 14:30 UTC.\nSend /alerts to see your rules, /delete 2 to remove this one.",
		b.say(42, "/watch AAPL 150 250"))
	require.Equal(t, "Rule 2: AAPL below 160.00 or above 250.00 USD.\nLast price: 201.30 USD at 14:30 UTC.\nSend /alerts to see your rules, /delete 2 to remove this one.",
		b.say(42, "/watch AAPL 160 250"), "a range replaces the ticker's range, as PUT …/tickers/{ticker} does")
	require.Equal(t, "Rule 4: MSFT down 3% on the day, once.\nNo price of MSFT is recorded yet: it comes with the next price check.\nSend /alerts to see your rules, /delete 4 to remove this one.",
		b.say(42, "/watch MSFT change 3% down once"))
	require.Equal(t, "Rule 5: AAPL a move of 5% up or down from 201.30 USD.\nLast price: 201.30 USD at 14:30 UTC.\nSend /alerts to see your rules, /delete 5 to remove this one.",
		b.say(42, "/watch AAPL move 5%"), "a move from the latest price")
	require.Equal(t, "Rule 6: NVDA a move of 10% up or down from 120.50.\nNo price of NVDA is recorded yet: it comes with the next price check.\nSend /alerts to see your rules, /delete 6 to remove this one.",
		b.say(42, "/watch NVDA move 10% from 120.50"))
	require.Equal(t, []string{"1", "2", "5", "4", "6"}, b.ruleIDsOf("pat@example.com"))

	// The same /watch again (a redelivered update) adds no twin.
	upd := telegramtest.Update(42, "/watch AAPL above 200")
	for range 2 {
		require.Equal(t, "Rule 1: AAPL above 200.00 USD.\nLast price: 201.30 USD at 14:30 UTC.\nSend /alerts to see your rules, /delete 1 to remove this one.",
			b.sayRaw(42, upd))
	}
	require.Len(t, b.ruleIDsOf("pat@example.com"), 5)

	// What does not parse gets the forms; bad values the rule's own reason; nothing changes.
	const usage = "Send /watch with a ticker and a condition, and once at the end for an alert that fires only once:\n" +
		"/watch AAPL above 200\n/watch AAPL below 150\n/watch AAPL 150 200 (a range: below 150 or above 200)\n" +
		"/watch MSFT change 3% (the day change from the previous close; add up or down for one side)\n" +
		"/watch NVDA move 5% (from the latest price; add from 120.50 to give the price yourself)\n/watch AAPL above 200 once\n" +
		"/watch AAPL above 200 via email,webhook (only to these channels; see /channels)"
	require.Equal(t, "Move takes a percent and, if you like, from and a price.\n\n"+usage, b.say(42, "/watch NVDA move 10% up from 120.50"))
	require.Equal(t, "I don't know the condition \"sideways\".\n\n"+usage, b.say(42, "/watch AAPL sideways 3"))
	require.Equal(t, "\"1e3\" is not a price: write it like 150 or 120.50.\n\n"+usage, b.say(42, "/watch AAPL above 1e3"))
	require.Equal(t, "Which ticker, and when should I alert you?\n\n"+usage, b.say(42, "/watch"))
	// The rule's own checks are told in the words of /watch, never the API's field names.
	require.Equal(t, "The percent must be greater than 0 and at most 1000.\n\n"+usage, b.say(42, "/watch AAPL change 5000%"))
	require.Equal(t, "No price of TSLA is recorded yet, so a move has nothing to start from: give the price yourself, "+
		"e.g. /watch TSLA move 5% from 120.50.", b.say(42, "/watch TSLA move 5%"))
	require.Equal(t, "The price must be greater than 0.\n\n"+usage, b.say(42, "/watch AAPL above 0"))
	require.Equal(t, "The price must be at most 1000000000000.\n\n"+usage, b.say(42, "/watch AAPL above 99999999999999999999"))
	require.Equal(t, "The price after from must be greater than 0.\n\n"+usage, b.say(42, "/watch AAPL move 5% from 0"))
	require.Equal(t, "A range takes the low price first, then a higher high price: /watch AAPL 150 200.\n\n"+usage, b.say(42, "/watch AAPL 200 150"))
	require.Equal(t, "A range takes the low price first, then a higher high price: /watch AAPL 150 200.\n\n"+usage, b.say(42, "/watch aapl 150 150"))
	require.Equal(t, "That did not work: the ticker is longer than 16 characters. Send /help for the commands.",
		b.say(42, "/watch ABCDEFGHIJKLMNOPQRSTUVWXYZ above 5"))
	require.Len(t, b.ruleIDsOf("pat@example.com"), 5)
	require.Equal(t, notLinked, b.say(43, "/watch AAPL above 200"), "an unlinked chat")
}

func TestAlertsDeleteUnwatchHistoryAndTheAlertButtons(t *testing.T) {
	b := newBot(t)
	b.linked(42, "pat@example.com")
	b.linked(43, "sam@example.com")
	b.recordPrice("AAPL", 201.3, time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC))
	require.Contains(t, b.say(42, "/watch AAPL above 200"), "Rule 1:")
	require.Contains(t, b.say(42, "/watch AAPL below 150 once"), "Rule 2:")
	require.Contains(t, b.say(42, "/watch MSFT change 3%"), "Rule 3:")
	require.Contains(t, b.say(43, "/watch AAPL above 190"), "Rule 4:")
	require.Equal(t, "No alerts yet. Send /alerts to see your rules.", b.say(42, "/history"))

	// A price fires rule 1: it is triggered since, and in the history.
	evaluate := command.NewEvaluatePriceHandler(b.store, stockalert.TopicAlerts, nil, nil)
	fired := time.Date(2026, 3, 2, 14, 45, 0, 0, time.UTC)
	require.NoError(t, evaluate.Handle(b.ctx, command.EvaluatePrice{Event: stockalert.NewPriceEvent("ev-1",
		stockalert.Quote{Ticker: "AAPL", Price: 210, Currency: "USD", Time: fired})}))
	require.Equal(t, "Your last alerts:\n14:45 UTC AAPL above 200.00 USD, at 210.00 USD: not sent yet", b.say(42, "/history"))
	require.Equal(t, "No alerts about MSFT yet.", b.say(42, "/history msft"))

	// Snooze 1h under the alert: answered in the user's zone, idempotent when delivered again.
	press := telegramtest.CallbackUpdate(42, 42, 7, "snooze:1")
	for range 2 {
		status, notice, sent := b.pressRaw(press)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "Snoozed until 16:00", notice)
		require.Empty(t, sent)
	}
	require.Equal(t, "Your alert rules:\n"+
		"AAPL, last 201.30 USD at 14:30 UTC\n"+
		"#1 above 200.00 USD: triggered since 14:45 UTC, snoozed until 16:00 UTC\n"+
		"#2 below 150.00 USD, once: armed\n"+
		"MSFT, no price yet\n"+
		"#3 3% up or down on the day: armed\n\n"+
		"Remove one with /delete <id>, or every rule on a ticker with /unwatch <TICKER>.", b.say(42, "/alerts"))

	// Another account's chat cannot touch the rule; a chat linked to none neither.
	_, notice, _ := b.press(43, 43, "del:1")
	require.Equal(t, "Already deleted", notice)
	_, notice, _ = b.press(44, 44, "snooze:1")
	require.Equal(t, "This alert rule no longer exists", notice)
	require.Equal(t, []string{"1", "2", "3"}, b.ruleIDsOf("pat@example.com"))

	// Delete alert: once, then "Already deleted" when delivered again.
	del := telegramtest.CallbackUpdate(42, 42, 7, "del:1")
	_, notice, _ = b.pressRaw(del)
	require.Equal(t, "Alert deleted", notice)
	_, notice, _ = b.pressRaw(del)
	require.Equal(t, "Already deleted", notice)
	require.Equal(t, []string{"2", "3"}, b.ruleIDsOf("pat@example.com"))

	require.Equal(t, "You have no rule 4. Send /alerts to see your rules and their ids.", b.say(42, "/delete 4"), "sam's rule")
	require.Equal(t, "Rule 2 deleted.", b.say(42, "/delete #2"))
	require.Equal(t, "You have no rule 2. Send /alerts to see your rules and their ids.", b.say(42, "/delete 2"))
	require.Equal(t, "Send /delete followed by a rule id from /alerts, for example /delete 12.", b.say(42, "/delete"))
	require.Equal(t, "Stopped watching MSFT: its rules are deleted.", b.say(42, "/unwatch msft"))
	require.Equal(t, "You have no rules on MSFT. Send /alerts to see your rules.", b.say(42, "/unwatch MSFT"))
	require.Equal(t, "You have no alert rules. Add one with /watch, for example /watch AAPL above 200.", b.say(42, "/alerts"))
	require.Equal(t, []string{"4"}, b.ruleIDsOf("sam@example.com"), "sam's rule is untouched")
}

// In a group, anyone may list the rules; only administrators add, delete or snooze them.
func TestGroupRuleChangesNeedAnAdministrator(t *testing.T) {
	b := newBot(t)
	const group, member, admin = int64(-5002), int64(81), int64(82)
	b.fake.SetChatMember(group, admin, "administrator")
	code := b.registerUser("grp@example.com", "", stockalert.Thresholds{})
	require.Contains(t, b.sayRaw(group, telegramtest.GroupUpdate(group, admin, "/start "+code)), "Linked to grp@example.com")

	const notAdmin = "Only the group's administrators may do that."
	require.Equal(t, notAdmin, b.sayRaw(group, telegramtest.GroupUpdate(group, member, "/watch AAPL above 200")))
	require.Empty(t, b.ruleIDsOf("grp@example.com"))
	require.Contains(t, b.sayRaw(group, telegramtest.GroupUpdate(group, admin, "/watch AAPL above 200")), "Rule 1: AAPL above 200.")
	require.Contains(t, b.sayRaw(group, telegramtest.GroupUpdate(group, member, "/alerts")), "#1 above 200.00: armed")
	require.Equal(t, notAdmin, b.sayRaw(group, telegramtest.GroupUpdate(group, member, "/delete 1")))
	_, notice, _ := b.press(group, member, "del:1")
	require.Equal(t, notAdmin, notice)
	require.Equal(t, []string{"1"}, b.ruleIDsOf("grp@example.com"))
	_, notice, _ = b.press(group, admin, "del:1")
	require.Equal(t, "Alert deleted", notice)
}
