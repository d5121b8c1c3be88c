package functions_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/functions/alert-system/alertsystemapp"
	"github.com/stockalert/stockalert/functions/data-collector/datacollectorapp"
	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// TestConcurrentRelaysPublishEachAlertOnce runs the shipped wiring with many tickers breached in one
// collector run: the connector hands the price events of several partitions to alert-system at once,
// and every invocation relays the pending to-notifier rows. Each alert must be published once
// (to-notifier holds as many messages as alerts were raised) and delivered once. Before, concurrent
// relays each published every pending row: about twice as many messages as alerts.
func TestConcurrentRelaysPublishEachAlertOnce(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	tg := telegramtest.NewServer(t, botToken)
	brokers := kafkatest.Embedded(t)

	with := sharedEnv(t, brokers, 3)
	// The simulated source knows every symbol; the test registers its users from one address.
	userCommands := faastest.Start(t, usercommandsapp.Name, usercommandsapp.Wire, nil,
		with(map[string]string{"QUOTE_SOURCE": "simulated", "PUBLIC_WRITES_PER_MINUTE": "0"}))
	dataCollector := faastest.Start(t, datacollectorapp.Name, datacollectorapp.Wire, nil,
		with(map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL()}))
	alertSystem := faastest.Start(t, alertsystemapp.Name, alertsystemapp.Wire, nil, with(nil))
	notifierEnv := faastest.Env(t, map[string]string{"telegram-bot-token": botToken}, with(map[string]string{"TELEGRAM_API_URL": tg.URL()}))
	alertNotifier := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire, notifierEnv)
	store := faastest.Store(t, notifierEnv)

	evaluator, notifier := newRoute(t, alertSystem), newRoute(t, alertNotifier)
	gateway := serveGateway(t, map[string]http.Handler{
		alertsystemapp.Name: evaluator, alertnotifierapp.Name: notifier,
		usercommandsapp.Name: newRoute(t, userCommands), datacollectorapp.Name: newRoute(t, dataCollector),
	})
	ctx := runConnector(t, gateway, brokers, 3, nil)

	// 12 tickers, 3 users each: one run breaches them all (36 alerts from 12 price events).
	const tickers, usersPerTicker = 12, 3
	at := time.Now().Add(-time.Hour).Truncate(time.Minute)
	for i := range tickers {
		ticker := fmt.Sprintf("T%02d", i)
		quotes.SetQuote(ticker, 150, "USD", at)
		for u := range usersPerTicker {
			res, err := http.Post(gateway+"/function/user-commands/users", "application/json", strings.NewReader(fmt.Sprintf(
				`{"email":"u%d-%s@example.com","ticker":%q,"high_value":100,"telegram_chat_id":%d}`, u, strings.ToLower(ticker), ticker, 1000+i*10+u)))
			require.NoError(t, err)
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.NoError(t, res.Body.Close())
			require.Equal(t, http.StatusCreated, res.StatusCode, string(body))
		}
	}
	res, err := http.Post(gateway+"/function/data-collector", "", nil)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode)

	const alerts = tickers * usersPerTicker
	// Each alert-system invocation publishes its outbox before it answers.
	require.Eventually(t, func() bool { return len(evaluator.answered()) == tickers }, time.Minute, 20*time.Millisecond)
	require.Zero(t, storetest.Count(t, store.DB(), "outbox", ""), "every alert was published")
	require.EqualValues(t, alerts, kafkatest.Size(t, brokers, stockalert.TopicAlerts), "to-notifier holds one message per alert")

	msgs, err := tg.WaitMessages(ctx, alerts)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(notifier.answered()) == alerts }, time.Minute, 20*time.Millisecond)
	chats := map[int64]int{}
	for _, m := range tg.Messages() {
		chats[m.ChatID]++
	}
	require.Len(t, chats, alerts, "every user told")
	for chat, n := range chats {
		require.Equalf(t, 1, n, "chat %d told %d times", chat, n)
	}
	require.Len(t, msgs, alerts)
	require.Equal(t, alerts, storetest.Count(t, store.DB(), "notifications", "state = 'sent' AND attempts = 1"))
}
