package functions_test

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/functions/alert-system/alertsystemapp"
	"github.com/stockalert/stockalert/functions/data-collector/datacollectorapp"
	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/kafkaconnector"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// timedRoute records when each answer of a function left it, and when each request reached it.
type timedRoute struct {
	next http.Handler

	mu       sync.Mutex
	arrived  []time.Time
	answered []time.Time
	statuses []int
	headers  []http.Header
}

func (r *timedRoute) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.arrived = append(r.arrived, time.Now())
	r.mu.Unlock()
	rec := httptest.NewRecorder()
	r.next.ServeHTTP(rec, req)
	r.mu.Lock()
	r.answered = append(r.answered, time.Now())
	r.statuses = append(r.statuses, rec.Code)
	r.headers = append(r.headers, rec.Header().Clone())
	r.mu.Unlock()
	maps.Copy(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// TestFloodControlCrossesFunctions: Telegram's flood control longer than the notifier waits in place
// (retry_after 2 > TELEGRAM_MAX_RETRY_AFTER 1s) comes back to the kafka-connector as 503 with
// Retry-After: 2; the connector does not invoke the notifier again before those 2 seconds have
// passed, though its own retry_max_interval is far shorter, and the alert is then sent, once.
// Before, the connector ignored Retry-After on a 503 and retried within milliseconds until it
// dead-lettered the alert.
func TestFloodControlCrossesFunctions(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	tg := telegramtest.NewServer(t, botToken)
	brokers := kafkatest.Embedded(t)
	with := sharedEnv(t, brokers, 1)
	// The simulated source knows every symbol: registrations are checked without the network.
	userCommands := faastest.Start(t, usercommandsapp.Name, usercommandsapp.Wire, nil, with(map[string]string{"QUOTE_SOURCE": "simulated"}))
	dataCollector := faastest.Start(t, datacollectorapp.Name, datacollectorapp.Wire, nil,
		with(map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL()}))
	alertSystem := faastest.Start(t, alertsystemapp.Name, alertsystemapp.Wire, nil, with(nil))
	notifierEnv := faastest.Env(t, map[string]string{"telegram-bot-token": botToken},
		with(map[string]string{"TELEGRAM_API_URL": tg.URL(), "TELEGRAM_MAX_RETRY_AFTER": "1s"}))
	alertNotifier := faastest.Run(t, alertnotifierapp.Name, alertnotifierapp.Wire, notifierEnv)

	notifier := &timedRoute{next: newRoute(t, alertNotifier)}
	gateway := serveGateway(t, map[string]http.Handler{
		alertsystemapp.Name: newRoute(t, alertSystem), alertnotifierapp.Name: notifier,
		usercommandsapp.Name: newRoute(t, userCommands), datacollectorapp.Name: newRoute(t, dataCollector),
	})
	runConnector(t, gateway, brokers, 1, func(c *kafkaconnector.Config) {
		// Waits in place far shorter than Telegram's pause: only Retry-After can make it wait.
		c.RetryInitialInterval, c.RetryMaxInterval, c.RetryWindow = 10*time.Millisecond, 50*time.Millisecond, time.Minute
	})

	res, err := http.Post(gateway+"/function/user-commands/users", "application/json",
		strings.NewReader(`{"email":"flo@example.com","ticker":"AAPL","high_value":100,"telegram_chat_id":4343}`))
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusCreated, res.StatusCode)

	tg.FailNext("sendMessage", http.StatusTooManyRequests, "", 2)
	quotes.SetQuote("AAPL", 150, "USD", time.Now().Add(-time.Minute).Truncate(time.Minute))
	res, err = http.Post(gateway+"/function/data-collector", "", nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode)

	require.Eventually(t, func() bool { return len(tg.Messages()) == 1 }, time.Minute, 20*time.Millisecond, "the alert reaches Telegram")
	require.Eventually(t, func() bool {
		notifier.mu.Lock()
		defer notifier.mu.Unlock()
		return len(notifier.statuses) == 2
	}, time.Minute, 20*time.Millisecond)

	notifier.mu.Lock()
	defer notifier.mu.Unlock()
	require.Equal(t, []int{http.StatusServiceUnavailable, http.StatusNoContent}, notifier.statuses,
		"the notifier handed flood control back, then delivered")
	require.Equal(t, "2", notifier.headers[0].Get("Retry-After"))
	gap := notifier.arrived[1].Sub(notifier.answered[0])
	require.GreaterOrEqual(t, gap, 2*time.Second, "the connector invoked the notifier again %s after its 503 with Retry-After: 2", gap)
	require.Equal(t, 2, tg.Calls("sendMessage"), "one call refused by flood control, one after it passed")
	require.Len(t, tg.Messages(), 1, "the alert was sent once")
}
