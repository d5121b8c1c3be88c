package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/internal/logcapture"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/chart"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/httpapi"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/quotesource"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// testBot is the Telegram bot username the tests configure.
const testBot = "stockalert_test_bot"

// testMaxBody is the body limit the tests configure (small, to reach it cheaply).
const testMaxBody = 4096

// api is both HTTP handlers wired over one real store, as the two functions wire them.
type api struct {
	t        testing.TB
	store    *sqlstore.Store
	clock    *storetest.Clock
	commands http.Handler
	queries  http.Handler
	logs     *logcapture.Buffer

	recordPrices command.RecordPricesHandler
	link         command.LinkTelegramHandler
	// yahoo is the fake chart API the charts' histories come from.
	yahoo *yahootest.Server
}

func newAPI(t testing.TB, open storetest.Opener) *api { return newAPIWithBot(t, open, "@"+testBot) }

// newAPIWithBot is newAPI with another Telegram bot username ("" for none).
func newAPIWithBot(t testing.TB, open storetest.Opener, bot string) *api {
	return newAPIWith(t, open, bot, false)
}

// newAPIWith is newAPIWithBot that may refuse telegram_chat_id at registration; each option changes
// the write side's dependencies (over the test's store) before it is built.
func newAPIWith(t testing.TB, open storetest.Opener, bot string, refuseChatID bool, options ...func(*sqlstore.Store, *httpapi.UserCommands)) *api {
	clock := storetest.NewClock()
	s := open(t, sqlstore.WithClock(clock.Now))
	logs := &logcapture.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	a := &api{t: t, store: s, clock: clock, logs: logs, yahoo: yahootest.NewServer(t)}
	yc, err := yahoo.New(yahoo.Config{BaseURL: a.yahoo.URL(), Timeout: 2 * time.Second, BreakerFailures: 2}, nil, nil)
	require.NoError(t, err)
	histories, err := quotesource.NewHistoryCache(yc, time.Minute, 0)
	require.NoError(t, err)
	deps := httpapi.UserCommands{
		RegisterUser:  command.NewRegisterUserHandler(s, logger, nil),
		UpdateUser:    command.NewUpdateUserHandler(s, logger, nil),
		Subscribe:     command.NewSubscribeHandler(s, logger, nil),
		Unsubscribe:   command.NewUnsubscribeHandler(s, logger, nil),
		DeleteUser:    command.NewDeleteUserHandler(s, logger, nil),
		IssueLinkCode: command.NewIssueLinkCodeHandler(s, logger, nil),
		CreateRule:    command.NewCreateRuleHandler(s, clock.Now, logger, nil),
		DeleteRule:    command.NewDeleteRuleHandler(s, logger, nil),
		EnableChannel: command.NewEnableChannelHandler(s, nil, logger, nil),
		Authenticate:  query.NewAuthenticateHandler(s, logger, nil),
		UserProfile:   query.NewUserProfileHandler(s, logger, nil),
		Once:          s,
		BotUsername:   bot,
		RefuseChatID:  refuseChatID,
		MaxBodyBytes:  testMaxBody,
		Logger:        logger,
	}
	for _, o := range options {
		o(s, &deps)
	}
	a.commands = httpapi.NewUserCommands(deps)
	a.queries = httpapi.NewStockQueries(httpapi.StockQueries{
		Authenticate:  query.NewAuthenticateHandler(s, logger, nil),
		UserProfile:   query.NewUserProfileHandler(s, logger, nil),
		LatestPrice:   query.NewLatestPriceHandler(s, query.Freshness{Now: clock.Now}, logger, nil),
		LatestPrices:  query.NewLatestPricesHandler(s, query.Freshness{Now: clock.Now}, logger, nil),
		AveragePrice:  query.NewAveragePriceHandler(s, logger, nil),
		Rules:         query.NewRulesHandler(s, query.Freshness{Now: clock.Now}, logger, nil),
		AlertHistory:  query.NewAlertHistoryHandler(s, logger, nil),
		ChannelStates: query.NewChannelStatesHandler(s, logger, nil),
		Chart:         query.NewChartHandler(s, histories, chart.Renderer{}, logger, nil),
		Logger:        logger,
	})
	a.recordPrices = command.NewRecordPricesHandler(s, stockalert.TopicPrices, nil, nil)
	a.link = command.NewLinkTelegramHandler(s, nil, nil)
	return a
}

// req is one request to a handler.
type req struct {
	method, path, body string
	token              string // sent as a Bearer token when not empty
	header             map[string]string
}

// resp is a recorded answer.
type resp struct {
	status int
	header http.Header
	body   string
}

func (a *api) serve(h http.Handler, rq req) resp {
	a.t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r := httptest.NewRequest(rq.method, rq.path, body)
	if rq.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if rq.token != "" {
		r.Header.Set("Authorization", "Bearer "+rq.token)
	}
	for k, v := range rq.header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return resp{status: w.Code, header: w.Header(), body: w.Body.String()}
}

func (a *api) cmd(rq req) resp   { a.t.Helper(); return a.serve(a.commands, rq) }
func (a *api) query(rq req) resp { a.t.Helper(); return a.serve(a.queries, rq) }

// registration is what POST /users answered.
type registration struct {
	Token            string `json:"token"`
	TelegramLinkCode string `json:"telegram_link_code"`
	TelegramLink     string `json:"telegram_link"`
}

// register registers a user through the API and returns its secrets.
func (a *api) register(body string) registration {
	a.t.Helper()
	res := a.cmd(req{method: "POST", path: "/users", body: body})
	require.Equal(a.t, http.StatusCreated, res.status, res.body)
	var reg registration
	require.NoError(a.t, json.Unmarshal([]byte(res.body), &reg))
	require.Len(a.t, reg.Token, 32)
	require.Len(a.t, reg.TelegramLinkCode, 32)
	return reg
}

// quote records a price.
func (a *api) quote(ticker string, price float64, at time.Time) {
	a.t.Helper()
	require.NoError(a.t, a.recordPrices.Handle(context.Background(), command.RecordPrices{Quotes: []stockalert.Quote{
		{Ticker: stockalert.Ticker(ticker), Price: price, Currency: "USD", Time: at},
	}}))
}

// count counts rows (see storetest.Count).
func (a *api) count(table string) int {
	a.t.Helper()
	return storetest.Count(a.t, a.store.DB(), table, "")
}

// rows is the number of rows in every table a command writes.
func (a *api) rows() map[string]int {
	a.t.Helper()
	out := map[string]int{}
	for _, table := range []string{"users", "alert_rules", "idempotency_keys", "outbox", "notifications"} {
		out[table] = a.count(table)
	}
	return out
}

// requireError checks an error answer: status, JSON content type, and the field it names ("" for none).
func requireError(t testing.TB, res resp, status int, field string) {
	t.Helper()
	require.Equal(t, status, res.status, res.body)
	require.Equal(t, "application/json; charset=utf-8", res.header.Get("Content-Type"))
	var body map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.body), &body), res.body)
	msg, ok := body["error"].(string)
	require.True(t, ok && msg != "", "error message in %s", res.body)
	if field == "" {
		require.NotContains(t, body, "field", res.body)
		require.Len(t, body, 1, res.body)
	} else {
		require.Equal(t, field, body["field"], res.body)
		require.Len(t, body, 2, res.body)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
