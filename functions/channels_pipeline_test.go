package functions_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/functions/alert-notifier/alertnotifierapp"
	"github.com/stockalert/stockalert/functions/alert-system/alertsystemapp"
	"github.com/stockalert/stockalert/functions/data-collector/datacollectorapp"
	"github.com/stockalert/stockalert/functions/stock-queries/stockqueriesapp"
	"github.com/stockalert/stockalert/functions/user-commands/usercommandsapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/email/emailtest"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// receiver is a user's webhook endpoint as the README tells its owner to write it: it verifies each
// request's Standard Webhooks signature with the specification's Go library and dedupes on webhook-id.
// It can be told to answer 500 to the next requests (before handling them), or to handle the next one
// and then stall without answering, as a slow endpoint does.
type receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	verifier *standardwebhooks.Webhook // nil until the webhook is registered
	requests int                       // every request
	rejected int                       // bad signatures
	fail     int                       // the next fail verified requests answer 500
	stall    int                       // the next stall new requests are handled, then not answered
	seen     map[string]bool
	handled  []receivedAlert // one per webhook-id
}

// receivedAlert is what the receiver handled of one alert: its webhook-id and the payload's fields the
// test reads.
type receivedAlert struct {
	ID   string
	Type string `json:"type"`
	Data struct {
		EventID  string  `json:"event_id"`
		Ticker   string  `json:"ticker"`
		Price    float64 `json:"price"`
		Currency string  `json:"currency"`
	} `json:"data"`
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{seen: map[string]bool{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.requests++
	if r.verifier == nil || r.verifier.Verify(body, req.Header) != nil {
		r.rejected++
		r.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if r.fail > 0 {
		r.fail--
		r.mu.Unlock()
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	id := req.Header.Get("webhook-id")
	if r.seen[id] {
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent) // a retry of what was handled: acknowledged, not handled again
		return
	}
	var a receivedAlert
	if err := json.Unmarshal(body, &a); err != nil {
		r.mu.Unlock()
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	a.ID = id
	r.seen[id] = true
	r.handled = append(r.handled, a)
	stall := r.stall > 0
	if stall {
		r.stall--
	}
	r.mu.Unlock()
	if stall {
		<-req.Context().Done() // the sender gives up (its timeout) and closes the connection
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) register(secret string) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.verifier = wh
	return nil
}

func (r *receiver) failNext(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = n
}

func (r *receiver) stallNext() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stall = 1
}

// counts returns the requests, the rejected ones, and the alerts handled.
func (r *receiver) counts() (requests, rejected int, handled []receivedAlert) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, r.rejected, append([]receivedAlert(nil), r.handled...)
}

// deferredHandler serves through the handler set later: the gateway's address must be known before
// the functions it routes to start (PUBLIC_BASE_URL).
type deferredHandler struct{ h atomic.Pointer[http.Handler] }

func (d *deferredHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*d.h.Load()).ServeHTTP(w, r)
}

var verifyLink = regexp.MustCompile(`https?://\S+/email/verify\?code=\S+`)

// One alert reaches Telegram, e-mail and a signed webhook through the functions' own wiring: a real
// SMTP server (STARTTLS, AUTH, its self-signed certificate trusted through SMTP_CA_FILE) and an HTTP
// receiver that verifies the Standard Webhooks signature and dedupes on webhook-id. The channels are
// set up through the public API: register, register the webhook (its secret answered once), turn
// e-mail on and confirm the address from the verification mail's link. Then the faults:
//   - AAPL: the SMTP server answers 451 (transient): the notifier asks the connector to deliver the
//     alert again, and the mail arrives once, Telegram is not sent twice; the webhook answers 500
//     twice, then accepts: retried in place, handled once.
//   - MSFT: the SMTP server answers 550 (permanent): e-mail is undeliverable with a plain reason in the
//     history, Telegram and the webhook are not held up; the webhook handles the alert but does not
//     answer in time, so the notifier sends it again, which the receiver dedupes.
//   - NVDA, whose rule names e-mail and the webhook, with e-mail turned off: the webhook alone gets the
//     alert; the SMTP server gets nothing, nor Telegram.
//
// The history shows each alert's delivery per channel with its outcome.
func TestChannelsInProcess(t *testing.T) {
	t.Parallel()
	quotes := yahootest.NewServer(t)
	tg := telegramtest.NewServer(t, botToken)
	smtp := emailtest.New(t)
	hook := newReceiver(t)
	brokers := kafkatest.Embedded(t)
	front := &deferredHandler{}
	gatewaySrv := httptest.NewServer(front)
	t.Cleanup(gatewaySrv.Close)
	gateway := gatewaySrv.URL

	with := sharedEnv(t, brokers, 3)
	yahoo := map[string]string{"QUOTE_SOURCE": "yahoo", "YAHOO_FINANCE_URL": quotes.URL()}
	mail := map[string]string{"SMTP_FROM": "Stock alerts <alerts@example.com>", "SMTP_TIMEOUT": "2s",
		"SMTP_CA_FILE": smtp.CAFile(t), "PUBLIC_BASE_URL": gateway, "WEBHOOK_ALLOW_HTTP_LOOPBACK": "true"}
	smtpSecret := map[string]string{"smtp-url": smtp.URL()}
	userCommands := faastest.Start(t, usercommandsapp.Name, usercommandsapp.Wire, smtpSecret, with(merge(yahoo, mail)))
	stockQueries := faastest.Start(t, stockqueriesapp.Name, stockqueriesapp.Wire, nil, with(nil))
	dataCollector := faastest.Start(t, datacollectorapp.Name, datacollectorapp.Wire, nil, with(yahoo))
	alertSystem := faastest.Start(t, alertsystemapp.Name, alertsystemapp.Wire, nil, with(nil))
	alertNotifier := faastest.Start(t, alertnotifierapp.Name, alertnotifierapp.Wire,
		map[string]string{"telegram-bot-token": botToken, "smtp-url": smtp.URL()},
		with(merge(mail, map[string]string{
			"TELEGRAM_API_URL": tg.URL(), "WEBHOOK_TIMEOUT": "300ms", "WEBHOOK_FIRST_RETRY": "20ms", "WEBHOOK_RETRY_WINDOW": "3s",
		})))
	evaluator, notifier := newRoute(t, alertSystem), newRoute(t, alertNotifier)
	gw := gatewayMux(t, map[string]http.Handler{
		alertsystemapp.Name: evaluator, alertnotifierapp.Name: notifier, usercommandsapp.Name: newRoute(t, userCommands),
		stockqueriesapp.Name: newRoute(t, stockQueries), datacollectorapp.Name: newRoute(t, dataCollector),
	})
	front.h.Store(&gw)
	runConnector(t, gateway, brokers, 3, nil)

	call := func(method, path, token, body string, want int) map[string]any {
		t.Helper()
		return callJSON(t, gateway, method, path, token, body, want)
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	for _, ticker := range []string{"AAPL", "MSFT", "NVDA"} {
		quotes.SetQuote(ticker, 5, "USD", t0)
	}
	reg := call("POST", "/function/user-commands/users", "", `{"email":"lee@example.com","ticker":"AAPL","high_value":100,"telegram_chat_id":88}`,
		http.StatusCreated)
	token, _ := reg["token"].(string)
	call("POST", "/function/user-commands/users/lee@example.com/alerts", token, `{"ticker":"MSFT","kind":"above","level":10}`, http.StatusCreated)
	rule := call("POST", "/function/user-commands/users/lee@example.com/alerts", token,
		`{"ticker":"NVDA","kind":"above","level":10,"channels":["email","webhook"]}`, http.StatusCreated)
	require.Equal(t, []any{"email", "webhook"}, rule["channels"])

	// The webhook: registered with the receiver's URL, its secret answered once.
	wh := call("PUT", "/function/user-commands/users/lee@example.com/webhook", token, `{"url":"`+hook.srv.URL+`/stockalert"}`, http.StatusOK)
	secret, _ := wh["secret"].(string)
	require.True(t, strings.HasPrefix(secret, "whsec_"), "%v", wh)
	require.NoError(t, hook.register(secret))

	// E-mail: turning it on sends the verification mail; its link's page has the button that confirms.
	on := call("PUT", "/function/user-commands/users/lee@example.com/channels", token, `{"email":{"enabled":true}}`, http.StatusOK)
	require.Equal(t, true, on["verification_sent"])
	verification := smtp.WaitMessages(t, 1, 10*time.Second)[0]
	require.Equal(t, []string{"lee@example.com"}, verification.To)
	_, parts := verification.Parts(t)
	link := verifyLink.FindString(parts["text/plain"])
	require.True(t, strings.HasPrefix(link, gateway+"/function/user-commands/email/verify?code="), parts["text/plain"])
	linkURL, err := url.Parse(link)
	require.NoError(t, err)
	require.Equal(t, verification.VerificationCode(t), linkURL.Query().Get("code"))
	res, err := http.PostForm(gateway+linkURL.Path, url.Values{"code": {linkURL.Query().Get("code")}})
	require.NoError(t, err)
	page, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode, string(page))
	require.Contains(t, string(page), "Address confirmed")

	channels := call("GET", "/function/stock-queries/users/lee@example.com/channels", token, "", http.StatusOK)
	require.Equal(t, []any{
		map[string]any{"channel": "telegram", "enabled": true, "target": "88", "verified": true},
		map[string]any{"channel": "email", "enabled": true, "target": "lee@example.com", "verified": true},
		map[string]any{"channel": "webhook", "enabled": true, "target": hook.srv.URL + "/stockalert", "verified": true},
	}, channels["channels"])

	// collect prices ticker at price, runs the collector and waits until alert-system has evaluated the
	// quotes it published: every ticker new to the store, and ticker.
	runs, published := 0, 0
	collect := func(ticker string, price float64, quotesPublished int) {
		t.Helper()
		runs++
		published += quotesPublished
		quotes.SetQuote(ticker, price, "USD", t0.Add(time.Duration(runs)*time.Minute))
		call("POST", "/function/data-collector", "", "", http.StatusOK)
		require.Eventually(t, func() bool { return len(evaluator.answered()) == published }, 30*time.Second, 10*time.Millisecond)
	}
	handledCount := func(n int) func() bool {
		return func() bool { _, _, h := hook.counts(); return len(h) == n }
	}
	lastAnswer := func(n, status int) func() bool {
		return func() bool { a := notifier.answered(); return len(a) >= n && a[len(a)-1] == status }
	}

	// AAPL: SMTP 451, webhook 500 twice.
	smtp.RefuseRecipients(451, "mailbox busy, try again later")
	hook.failNext(2)
	collect("AAPL", 150, 3) // AAPL, and MSFT and NVDA, priced for the first time
	require.Eventually(t, func() bool { a := notifier.answered(); return len(a) >= 1 && a[0] >= 500 }, 30*time.Second, 10*time.Millisecond,
		"the SMTP 451 makes the notifier ask for the alert again")
	smtp.RefuseRecipients(0, "")
	mails := smtp.WaitMessages(t, 2, 30*time.Second)
	require.Eventually(t, lastAnswer(2, http.StatusNoContent), 30*time.Second, 10*time.Millisecond)
	require.Len(t, smtp.Messages(), 2, "the alert mail arrives once")
	header, alertParts := mails[1].Parts(t)
	require.Equal(t, []string{"lee@example.com"}, mails[1].To)
	require.Contains(t, header.Get("Subject"), "AAPL is above")
	require.Contains(t, alertParts["text/plain"], "150")
	require.NotEmpty(t, header.Get("List-Unsubscribe"))
	require.Len(t, tg.Messages(), 1, "Telegram is not sent twice")
	require.Contains(t, tg.Messages()[0].Text, "AAPL is above")
	requests, rejected, handled := hook.counts()
	require.Equal(t, 3, requests, "two 500s, then accepted; the redelivery does not send the webhook again")
	require.Zero(t, rejected, "every request is signed with the registered secret")
	require.Len(t, handled, 1)
	require.Equal(t, "alert.fired", handled[0].Type)
	require.Equal(t, "AAPL", handled[0].Data.Ticker)
	require.InDelta(t, 150, handled[0].Data.Price, 1e-9)
	require.Equal(t, handled[0].ID, handled[0].Data.EventID)

	// MSFT: SMTP 550, the webhook handles the alert but answers too late.
	smtp.RefuseRecipients(550, "no such mailbox")
	hook.stallNext()
	answers := len(notifier.answered())
	collect("MSFT", 12, 1)
	require.Eventually(t, lastAnswer(answers+1, http.StatusNoContent), 30*time.Second, 10*time.Millisecond,
		"an undeliverable e-mail does not hold the alert up")
	smtp.RefuseRecipients(0, "")
	require.Len(t, notifier.answered(), answers+1, "delivered the first time")
	require.Len(t, smtp.Messages(), 2, "no mail for MSFT")
	require.Len(t, tg.Messages(), 2)
	require.Contains(t, tg.Messages()[1].Text, "MSFT is above")
	requests, rejected, handled = hook.counts()
	require.Equal(t, 5, requests, "the request that timed out, then its retry")
	require.Zero(t, rejected)
	require.Len(t, handled, 2, "the retry of the alert handled is deduped on webhook-id")
	require.Equal(t, "MSFT", handled[1].Data.Ticker)

	// NVDA, whose rule names e-mail and the webhook, with e-mail turned off: the webhook alone.
	call("PUT", "/function/user-commands/users/lee@example.com/channels", token, `{"email":{"enabled":false}}`, http.StatusOK)
	answers = len(notifier.answered())
	collect("NVDA", 11, 1)
	require.Eventually(t, handledCount(3), 30*time.Second, 10*time.Millisecond)
	require.Eventually(t, lastAnswer(answers+1, http.StatusNoContent), 30*time.Second, 10*time.Millisecond)
	_, _, handled = hook.counts()
	require.Equal(t, "NVDA", handled[2].Data.Ticker)
	require.Len(t, tg.Messages(), 2, "the rule does not name Telegram")
	require.Len(t, smtp.Messages(), 2, "e-mail is off: no mail")
	require.GreaterOrEqual(t, smtp.TLSSessions(), 4,
		"every session authenticated over STARTTLS: the verification, the 451s, the AAPL mail, the 550")

	history := call("GET", "/function/stock-queries/users/lee@example.com/alerts/history", token, "", http.StatusOK)
	alerts, _ := history["alerts"].([]any)
	require.Len(t, alerts, 3)
	byTicker := map[string]any{}
	for _, a := range alerts {
		m := a.(map[string]any)
		byTicker[m["ticker"].(string)] = m["deliveries"]
	}
	require.Equal(t, map[string]any{
		"AAPL": []any{
			map[string]any{"channel": "telegram", "outcome": "sent"},
			map[string]any{"channel": "email", "outcome": "sent"},
			map[string]any{"channel": "webhook", "outcome": "sent"},
		},
		"MSFT": []any{
			map[string]any{"channel": "telegram", "outcome": "sent"},
			map[string]any{"channel": "email", "outcome": "undeliverable", "reason": "the mail server refused the address"},
			map[string]any{"channel": "webhook", "outcome": "sent"},
		},
		"NVDA": []any{
			map[string]any{"channel": "webhook", "outcome": "sent"},
		},
	}, byTicker)
}

// merge returns a's settings with b's over them.
func merge(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}
