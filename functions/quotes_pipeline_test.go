package functions_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
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
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// TestPipelineCarriesQuotesAsQuoted runs the shipped composition roots as TestPipelineInProcess does,
// with quotes as Yahoo gives them for other exchanges: an NSE symbol with & (M&M.NS) registers and is
// priced, a London share quoted in pence (GBp) reaches the Telegram message and GET …/latest as GBp,
// never GBP, and a renamed symbol answering with its last trade of months ago (OLD.L) is recorded but
// raises no alert though its price is out of range.
func TestPipelineCarriesQuotesAsQuoted(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	tg := telegramtest.NewServer(t, botToken)
	brokers := kafkatest.Embedded(t)

	with := sharedEnv(t, brokers, 3)
	// The simulated source knows every symbol: registrations are checked without the network.
	userCommands := faastest.Start(t, usercommandsapp.Name, usercommandsapp.Wire, nil, with(map[string]string{"QUOTE_SOURCE": "simulated"}))
	stockQueries := faastest.Start(t, stockqueriesapp.Name, stockqueriesapp.Wire, nil, with(nil))
	dataCollector := faastest.Start(t, datacollectorapp.Name, datacollectorapp.Wire, nil,
		with(map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL()}))
	alertSystem := faastest.Start(t, alertsystemapp.Name, alertsystemapp.Wire, nil, with(nil))
	alertNotifier := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire,
		faastest.Env(t, map[string]string{"telegram-bot-token": botToken}, with(map[string]string{"TELEGRAM_API_URL": tg.URL()})))

	evaluator, notifier := newRoute(t, alertSystem), newRoute(t, alertNotifier)
	gateway := serveGateway(t, map[string]http.Handler{
		alertsystemapp.Name: evaluator, alertnotifierapp.Name: notifier, usercommandsapp.Name: newRoute(t, userCommands),
		stockqueriesapp.Name: newRoute(t, stockQueries), datacollectorapp.Name: newRoute(t, dataCollector),
	})
	runConnector(t, gateway, brokers, 3, nil)

	call := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), method, gateway+path, strings.NewReader(body))
		require.NoError(t, err)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		return res.StatusCode, string(b)
	}

	// Register with an NSE symbol holding &, then watch a London share and a renamed one, in pence.
	status, body := call("POST", "/function/user-commands/users", "",
		`{"email":"ravi@example.com","ticker":"M&M.NS","high_value":3000,"telegram_chat_id":4243}`)
	require.Equal(t, http.StatusCreated, status, body)
	var reg struct {
		Token string `json:"token"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &reg))
	for tk, bound := range map[string]string{"VOD.L": `{"high_value":70}`, "OLD.L": `{"high_value":10}`} {
		status, body = call("PUT", "/function/user-commands/users/ravi@example.com/tickers/"+url.PathEscape(tk), reg.Token, bound)
		require.Equal(t, http.StatusOK, status, body)
	}

	now := time.Now().Truncate(time.Second)
	quotes.SetQuote("M&M.NS", 3120.4, "INR", now.Add(-time.Minute))
	quotes.SetQuote("VOD.L", 72.5, "GBp", now.Add(-time.Minute))
	quotes.SetQuote("OLD.L", 12.3, "GBp", now.AddDate(0, -5, 0))
	status, body = call("POST", "/function/data-collector", "", "")
	require.Equal(t, http.StatusOK, status, body)
	var rep struct {
		Quoted       int      `json:"quoted"`
		Stale        []string `json:"stale"`
		PublishError string   `json:"publish_error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &rep))
	require.Equal(t, 3, rep.Quoted, body)
	require.Equal(t, []string{"OLD.L"}, rep.Stale)
	require.Empty(t, rep.PublishError)
	require.Equal(t, int64(2), kafkatest.Size(t, brokers, stockalert.TopicPrices), "the stale quote announced nothing")

	// Two alerts, with the codes as quoted.
	require.Eventually(t, func() bool { return len(evaluator.answered()) == 2 }, time.Minute, 20*time.Millisecond)
	msgs, err := tg.WaitMessages(ctxTimeout(t, time.Minute), 2)
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	texts := map[string]string{}
	for _, m := range msgs {
		require.Equal(t, int64(4243), m.ChatID)
		texts[strings.Fields(strings.TrimPrefix(m.Text, "🔔 "))[0]] = m.Text
	}
	// (The day change, when the alert carries it, follows the price: "Price: 72.50 GBp (pence) (+0.50% today) at …".)
	require.Contains(t, texts["VOD.L"], "VOD.L is above your high threshold of 70.00 GBp\nPrice: 72.50 GBp (pence) ")
	require.Contains(t, texts["M&M.NS"], "M&M.NS is above your high threshold of 3000.00 INR\nPrice: 3120.40 INR ")
	require.Eventually(t, func() bool { return len(notifier.answered()) == 2 }, time.Minute, 20*time.Millisecond)
	require.Equal(t, int64(2), kafkatest.Size(t, brokers, stockalert.TopicAlerts), "no alert about the stale OLD.L")

	// The read side shows the same.
	status, body = call("GET", "/function/stock-queries/users/ravi@example.com/latest?ticker=VOD.L", reg.Token, "")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"ticker":"VOD.L","price":72.5,"currency":"GBp",`)
	require.Contains(t, body, `"stale":false}`)
	status, body = call("GET", "/function/stock-queries/users/ravi@example.com/latest?ticker=OLD.L", reg.Token, "")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"currency":"GBp",`)
	require.Contains(t, body, `"stale":true}`)
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
