package functions_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/functions/alert-system/alertsystemapp"
	"github.com/stockalert/stockalert/functions/data-collector/datacollectorapp"
	"github.com/stockalert/stockalert/functions/stock-queries/stockqueriesapp"
	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// A rule made through the API fires through the whole shipped pipeline: a change_pct rule with repeat
// "once" and a note, on a day change computed from Yahoo's chartPreviousClose, reaches the chat in its
// kind's words, is done, shows in the rules list and the history with its delivery, and never fires
// again; a level rule added later on the same ticker still fires.
func TestRulesInProcess(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	tg := telegramtest.NewServer(t, botToken)
	brokers := kafkatest.Embedded(t)
	with := sharedEnv(t, brokers, 3)
	yahoo := map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL()}
	userCommands := faastest.Start(t, usercommandsapp.Name, usercommandsapp.Wire, nil, with(yahoo))
	stockQueries := faastest.Start(t, stockqueriesapp.Name, stockqueriesapp.Wire, nil, with(nil))
	dataCollector := faastest.Start(t, datacollectorapp.Name, datacollectorapp.Wire, nil, with(yahoo))
	alertSystem := faastest.Start(t, alertsystemapp.Name, alertsystemapp.Wire, nil, with(nil))
	alertNotifier := faastest.Start(t, alertnotifierapp.Name, alertnotifierapp.Wire,
		map[string]string{"telegram-bot-token": botToken}, with(map[string]string{"TELEGRAM_API_URL": tg.URL()}))
	evaluator, notifier := newRoute(t, alertSystem), newRoute(t, alertNotifier)
	gateway := serveGateway(t, map[string]http.Handler{
		alertsystemapp.Name: evaluator, alertnotifierapp.Name: notifier, usercommandsapp.Name: newRoute(t, userCommands),
		stockqueriesapp.Name: newRoute(t, stockQueries), datacollectorapp.Name: newRoute(t, dataCollector),
	})
	runConnector(t, gateway, brokers, 3, nil)

	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	quotes.SetQuote("MSFT", 400, "USD", t0)
	quotes.SetPreviousClose("MSFT", 400, 0)
	call := func(method, path, token, body string, want int) map[string]any {
		t.Helper()
		return callJSON(t, gateway, method, path, token, body, want)
	}
	reg := call("POST", "/function/user-commands/users", "", `{"email":"kim@example.com","telegram_chat_id":77}`, http.StatusCreated)
	token, _ := reg["token"].(string)
	rule := call("POST", "/function/user-commands/users/kim@example.com/alerts", token,
		`{"ticker":"MSFT","kind":"change_pct","percent":3,"direction":"down","repeat":"once","note":"buy the dip"}`, http.StatusCreated)
	require.Equal(t, "armed", rule["state"])

	runs := 0
	collect := func(price float64) {
		t.Helper()
		runs++
		quotes.SetQuote("MSFT", price, "USD", t0.Add(time.Duration(runs)*time.Minute))
		call("POST", "/function/data-collector", "", "", http.StatusOK)
		require.Eventually(t, func() bool { return len(evaluator.answered()) == runs }, time.Minute, 20*time.Millisecond)
	}
	collect(387) // down 3.25 % from the previous close of 400
	require.Eventually(t, func() bool { return len(tg.Messages()) == 1 }, time.Minute, 20*time.Millisecond)
	text := tg.Messages()[0].Text
	for _, want := range []string{"MSFT is down 3.25% today", "3% alert", "400.00 USD", "Note: buy the dip", "now done"} {
		require.Contains(t, text, want)
	}
	require.Eventually(t, func() bool { return len(notifier.answered()) == 1 }, time.Minute, 20*time.Millisecond)

	list := call("GET", "/function/stock-queries/users/kim@example.com/alerts", token, "", http.StatusOK)
	rules, _ := list["rules"].([]any)
	require.Len(t, rules, 1)
	require.Equal(t, "done", rules[0].(map[string]any)["state"])
	history := call("GET", "/function/stock-queries/users/kim@example.com/alerts/history", token, "", http.StatusOK)
	alerts, _ := history["alerts"].([]any)
	require.Len(t, alerts, 1)
	entry := alerts[0].(map[string]any)
	require.Equal(t, rule["id"], entry["rule_id"])
	require.Equal(t, []any{map[string]any{"channel": "telegram", "outcome": "sent"}}, entry["deliveries"])

	// The done rule does not fire again; a level rule added now fires on the same price, and its alert
	// is the next message (alerts of one user are ordered), so none came from the done rule.
	call("POST", "/function/user-commands/users/kim@example.com/alerts", token, `{"ticker":"MSFT","kind":"below","level":390}`, http.StatusCreated)
	collect(380)
	require.Eventually(t, func() bool { return len(tg.Messages()) == 2 }, time.Minute, 20*time.Millisecond)
	require.Contains(t, tg.Messages()[1].Text, "MSFT is below 390.00 USD")
	require.Eventually(t, func() bool { return len(notifier.answered()) == 2 }, time.Minute, 20*time.Millisecond)
	history = call("GET", "/function/stock-queries/users/kim@example.com/alerts/history", token, "", http.StatusOK)
	alerts, _ = history["alerts"].([]any)
	require.Len(t, alerts, 2)
}
