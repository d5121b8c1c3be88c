package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/httpapi"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// ruleID is the id of a rule answered by POST …/alerts.
func ruleID(t *testing.T, body string) string {
	t.Helper()
	var r struct {
		ID string `json:"id"`
	}
	require.NoError(t, jsonUnmarshal(body, &r), body)
	require.NotEmpty(t, r.ID, body)
	return r.ID
}

func TestCreateRule(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"ada@example.com","ticker":"AAPL","high_value":300}`)
	post := func(body string, header map[string]string) resp {
		t.Helper()
		return a.cmd(req{method: "POST", path: "/users/ada@example.com/alerts", token: reg.Token, body: body, header: header})
	}
	a.quote("NVDA", 118.5, a.clock.Now().Add(-time.Minute))

	for _, tc := range []struct{ name, body, want string }{
		{"above", `{"ticker":"aapl","kind":"above","level":200}`,
			`{"ticker":"AAPL","kind":"above","level":200,"repeat":"rearm","expires_at":null,"note":"","state":"armed"}`},
		{"change_pct, once", `{"ticker":"MSFT","kind":"change_pct","percent":3,"direction":"down","repeat":"once","note":"buy the dip"}`,
			`{"ticker":"MSFT","kind":"change_pct","percent":3,"direction":"down","repeat":"once","expires_at":null,"note":"buy the dip","state":"armed"}`},
		{"move_pct with a reference and an expiry", `{"ticker":"NVDA","kind":"move_pct","percent":5,"reference":120.5,"expires_at":"2027-01-31T00:00:00Z"}`,
			`{"ticker":"NVDA","kind":"move_pct","percent":5,"direction":"either","reference":120.5,"repeat":"rearm","expires_at":"2027-01-31T00:00:00Z","note":"","state":"armed"}`},
		{"move_pct from the latest price", `{"ticker":"NVDA","kind":"move_pct","percent":10,"direction":"up"}`,
			`{"ticker":"NVDA","kind":"move_pct","percent":10,"direction":"up","reference":118.5,"repeat":"rearm","expires_at":null,"note":"","state":"armed"}`},
		{"a range on a new ticker", `{"ticker":"IBM","kind":"range","low_value":90}`,
			`{"ticker":"IBM","kind":"range","high_value":null,"low_value":90,"repeat":"rearm","expires_at":null,"note":"","state":"armed"}`},
		{"channels named, kept in the channels' order", `{"ticker":"AMD","kind":"above","level":200,"channels":["webhook","email"]}`,
			`{"ticker":"AMD","kind":"above","level":200,"repeat":"rearm","expires_at":null,"note":"","channels":["email","webhook"],"state":"armed"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := post(tc.body, nil)
			require.Equal(t, http.StatusCreated, res.status, res.body)
			id := ruleID(t, res.body)
			want := `{"id":"` + id + `",` + strings.TrimPrefix(tc.want, "{")
			want = strings.TrimSuffix(want, "}") + `,` + created + `}`
			require.JSONEq(t, want, res.body)
		})
	}

	t.Run("bad input is a 400 naming the field and writes nothing", func(t *testing.T) {
		before := a.rows()
		for _, tc := range []struct{ name, body, field string }{
			{"unknown field", `{"ticker":"AAPL","kind":"above","level":1,"colour":"red"}`, "colour"},
			{"a field of another kind", `{"ticker":"AAPL","kind":"change_pct","percent":2,"level":1}`, "level"},
			{"a range's field on above", `{"ticker":"AAPL","kind":"above","level":1,"high_value":2}`, "high_value"},
			{"reference on change_pct", `{"ticker":"AAPL","kind":"change_pct","percent":2,"reference":100}`, "reference"},
			{"no kind", `{"ticker":"AAPL","level":1}`, "kind"},
			{"unknown kind", `{"ticker":"AAPL","kind":"sideways"}`, "kind"},
			{"no ticker", `{"kind":"above","level":1}`, "ticker"},
			{"bad ticker", `{"ticker":"A B","kind":"above","level":1}`, "ticker"},
			{"level 0", `{"ticker":"AAPL","kind":"above","level":0}`, "level"},
			{"level missing", `{"ticker":"AAPL","kind":"below"}`, "level"},
			{"negative level", `{"ticker":"AAPL","kind":"below","level":-5}`, "level"},
			{"level as text", `{"ticker":"AAPL","kind":"below","level":"5"}`, "level"},
			{"percent 0", `{"ticker":"AAPL","kind":"change_pct","percent":0}`, "percent"},
			{"percent over 1000", `{"ticker":"AAPL","kind":"change_pct","percent":1000.5}`, "percent"},
			{"bad direction", `{"ticker":"AAPL","kind":"change_pct","percent":2,"direction":"sideways"}`, "direction"},
			{"empty direction", `{"ticker":"AAPL","kind":"move_pct","percent":2,"reference":5,"direction":""}`, "direction"},
			{"reference 0", `{"ticker":"AAPL","kind":"move_pct","percent":2,"reference":0}`, "reference"},
			{"no reference and no price", `{"ticker":"AAPL","kind":"move_pct","percent":2}`, "reference"},
			{"bad repeat", `{"ticker":"AAPL","kind":"above","level":1,"repeat":"twice"}`, "repeat"},
			{"expiry in the past", `{"ticker":"AAPL","kind":"above","level":1,"expires_at":"2020-01-01T00:00:00Z"}`, "expires_at"},
			{"expiry not RFC 3339", `{"ticker":"AAPL","kind":"above","level":1,"expires_at":"tomorrow"}`, "expires_at"},
			{"note too long", `{"ticker":"AAPL","kind":"above","level":1,"note":"` + strings.Repeat("é", 201) + `"}`, "note"},
			{"an empty range", `{"ticker":"TSLA","kind":"range"}`, "high_value"},
			{"a range with high <= low", `{"ticker":"TSLA","kind":"range","high_value":1,"low_value":2}`, "high_value"},
			{"unknown channel", `{"ticker":"AAPL","kind":"above","level":1,"channels":["sms"]}`, "channels"},
			{"no channel", `{"ticker":"AAPL","kind":"above","level":1,"channels":[]}`, "channels"},
			{"a channel twice", `{"ticker":"AAPL","kind":"above","level":1,"channels":["email","email"]}`, "channels"},
			{"channels not a list", `{"ticker":"AAPL","kind":"above","level":1,"channels":"email"}`, "channels"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				requireError(t, post(tc.body, nil), http.StatusBadRequest, tc.field)
			})
		}
		// The reason reads as English for every kind ("an above rule" would need the article chosen).
		res := post(`{"ticker":"AAPL","kind":"above","level":1,"percent":3}`, nil)
		require.JSONEq(t, `{"error":"invalid percent: is not a field of above rules","field":"percent"}`, res.body)
		require.Equal(t, before, a.rows())
	})

	t.Run("a second range on a ticker is a 409 naming PUT", func(t *testing.T) {
		res := post(`{"ticker":"AAPL","kind":"range","high_value":400}`, nil)
		requireError(t, res, http.StatusConflict, "ticker")
		require.JSONEq(t, `{"error":"the user already has a range on AAPL: change it with PUT /users/{email}/tickers/{ticker}","field":"ticker"}`, res.body)
	})

	t.Run("Idempotency-Key creates once and answers the first response again", func(t *testing.T) {
		key := map[string]string{"Idempotency-Key": "rule-1"}
		first := post(`{"ticker":"AAPL","kind":"below","level":150}`, key)
		require.Equal(t, http.StatusCreated, first.status, first.body)
		rules := a.count("alert_rules")
		again := post(`{"ticker":"AAPL", "kind":"below", "level":150.0}`, key)
		require.Equal(t, http.StatusCreated, again.status, again.body)
		require.Equal(t, first.body, again.body)
		require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
		require.Equal(t, rules, a.count("alert_rules"))
		requireError(t, post(`{"ticker":"AAPL","kind":"below","level":140}`, key), http.StatusUnprocessableEntity, "Idempotency-Key")
		require.Equal(t, rules, a.count("alert_rules"))
	})

	t.Run("no token is a 401", func(t *testing.T) {
		requireError(t, a.cmd(req{method: "POST", path: "/users/ada@example.com/alerts", body: `{"ticker":"AAPL","kind":"above","level":1}`}),
			http.StatusUnauthorized, "")
	})
}

// The 201 answer is the rule as stored: its times at the store's millisecond precision, the same as
// GET …/alerts answers later (not the request's nanoseconds).
func TestCreateRuleAnswersTheStoredTimes(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"ed@example.com"}`)
	a.clock.Advance(1234567 * time.Nanosecond)
	res := a.cmd(req{method: "POST", path: "/users/ed@example.com/alerts", token: reg.Token,
		body: `{"ticker":"AAPL","kind":"above","level":200,"expires_at":"2027-01-31T01:00:00.123456789+01:00"}`})
	require.Equal(t, http.StatusCreated, res.status, res.body)
	var created, listed struct {
		CreatedAt string `json:"created_at"`
		ExpiresAt string `json:"expires_at"`
	}
	require.NoError(t, jsonUnmarshal(res.body, &created))
	require.Equal(t, "2026-03-02T14:30:00.001Z", created.CreatedAt)
	require.Equal(t, "2027-01-31T00:00:00.123Z", created.ExpiresAt)
	list := a.query(req{method: "GET", path: "/users/ed@example.com/alerts", token: reg.Token})
	require.Equal(t, http.StatusOK, list.status, list.body)
	var rules struct {
		Rules []json.RawMessage `json:"rules"`
	}
	require.NoError(t, jsonUnmarshal(list.body, &rules))
	require.Len(t, rules.Rules, 1)
	require.NoError(t, jsonUnmarshal(string(rules.Rules[0]), &listed))
	require.Equal(t, created, listed)
}

func TestCreateRuleLimit(t *testing.T) {
	a := newAPIWith(t, storetest.Open, "", false, func(s *sqlstore.Store, d *httpapi.UserCommands) {
		d.CreateRule = command.NewCreateRuleHandler(s, nil, nil, nil, command.MaxRulesPerUser(2))
	})
	reg := a.register(`{"email":"bea@example.com","ticker":"AAPL","high_value":300}`)
	post := func(body string) resp {
		t.Helper()
		return a.cmd(req{method: "POST", path: "/users/bea@example.com/alerts", token: reg.Token, body: body})
	}
	require.Equal(t, http.StatusCreated, post(`{"ticker":"AAPL","kind":"above","level":200}`).status)
	res := post(`{"ticker":"AAPL","kind":"above","level":250}`)
	requireError(t, res, http.StatusBadRequest, "kind")
	require.JSONEq(t, `{"error":"invalid kind: a user can have at most 2 alert rules (ranges included): delete one first","field":"kind"}`, res.body)
	require.Equal(t, 2, a.count("alert_rules"))
}

func TestDeleteRule(t *testing.T) {
	a := newAPI(t, storetest.Open)
	ada := a.register(`{"email":"ada@example.com"}`)
	bob := a.register(`{"email":"bob@example.com"}`)
	create := func(email, token string) string {
		t.Helper()
		res := a.cmd(req{method: "POST", path: "/users/" + email + "/alerts", token: token, body: `{"ticker":"AAPL","kind":"above","level":200}`})
		require.Equal(t, http.StatusCreated, res.status, res.body)
		return ruleID(t, res.body)
	}
	mine, theirs := create("ada@example.com", ada.Token), create("bob@example.com", bob.Token)
	del := func(id string) resp {
		t.Helper()
		return a.cmd(req{method: "DELETE", path: "/users/ada@example.com/alerts/" + id, token: ada.Token})
	}
	for name, id := range map[string]string{"someone else's": theirs, "malformed": "abc", "zero": "0", "padded": "0" + mine} {
		t.Run(name+" id is a 404", func(t *testing.T) {
			res := del(id)
			requireError(t, res, http.StatusNotFound, "")
			require.JSONEq(t, `{"error":"no such rule"}`, res.body)
		})
	}
	require.Equal(t, 2, a.count("alert_rules"))
	res := del(mine)
	require.Equal(t, http.StatusNoContent, res.status, res.body)
	require.Empty(t, res.body)
	res = del(mine)
	requireError(t, res, http.StatusNotFound, "")
	require.JSONEq(t, `{"error":"no such rule"}`, res.body, "already deleted: the same answer as unknown")
	require.Equal(t, 1, a.count("alert_rules"))
	requireError(t, a.cmd(req{method: "DELETE", path: "/users/ada@example.com/alerts/" + theirs, token: bob.Token}),
		http.StatusUnauthorized, "")
}

func TestListRules(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"cy@example.com","ticker":"AAPL","high_value":300}`)
	res := a.cmd(req{method: "POST", path: "/users/cy@example.com/alerts", token: reg.Token,
		body: `{"ticker":"MSFT","kind":"change_pct","percent":3,"repeat":"once","note":"watch"}`})
	require.Equal(t, http.StatusCreated, res.status, res.body)
	msft := ruleID(t, res.body)
	a.quote("AAPL", 150, a.clock.Now())
	_, err := a.store.DB().ExecContext(context.Background(), `UPDATE prices SET previous_close = 120 WHERE ticker = 'AAPL'`)
	require.NoError(t, err)
	get := func(path string) resp {
		t.Helper()
		return a.query(req{method: "GET", path: path, token: reg.Token})
	}
	var aapl string
	{
		var list struct {
			Rules []struct {
				ID string `json:"id"`
			} `json:"rules"`
		}
		res := get("/users/cy@example.com/alerts")
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.NoError(t, jsonUnmarshal(res.body, &list))
		require.Len(t, list.Rules, 2)
		aapl = list.Rules[0].ID
		require.JSONEq(t, `{"rules":[
			{"id":"`+aapl+`","ticker":"AAPL","kind":"range","high_value":300,"low_value":null,"repeat":"rearm","expires_at":null,
			 "note":"","state":"armed",`+created+`,"last_triggered_at":null,
			 "latest":{"ticker":"AAPL","price":150,"currency":"USD","time":"2026-03-02T14:30:00Z","stale":false,
			           "previous_close":120,"day_change":30,"day_change_percent":25}},
			{"id":"`+msft+`","ticker":"MSFT","kind":"change_pct","percent":3,"direction":"either","repeat":"once","expires_at":null,
			 "note":"watch","state":"armed",`+created+`,"last_triggered_at":null,"latest":null}]}`, res.body)
	}
	res = get("/users/cy@example.com/alerts?ticker=msft")
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, `"id":"`+msft+`"`)
	require.NotContains(t, res.body, `"id":"`+aapl+`"`)
	require.JSONEq(t, `{"rules":[]}`, get("/users/cy@example.com/alerts?ticker=IBM").body)

	requireError(t, get("/users/cy@example.com/alerts?ticker=%24%24"), http.StatusBadRequest, "ticker")
	requireError(t, get("/users/cy@example.com/alerts?kind=above"), http.StatusBadRequest, "kind")
	requireError(t, a.query(req{method: "GET", path: "/users/cy@example.com/alerts"}), http.StatusUnauthorized, "")
}

func TestAlertHistory(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"dot@example.com","ticker":"AAPL","high_value":100}`)
	var uid int64
	require.NoError(t, a.store.DB().QueryRowContext(context.Background(), `SELECT id FROM users WHERE email = 'dot@example.com'`).Scan(&uid))
	t0 := a.clock.Now()
	var events []stockalert.AlertEvent
	for i := range 3 {
		e := stockalert.AlertEvent{EventID: "ev-" + strconv.Itoa(i), Ticker: "AAPL", Condition: stockalert.Above, Price: 101 + float64(i),
			Currency: "USD", Threshold: 100, Time: t0.Add(time.Duration(i) * time.Minute), RuleID: "7", Kind: stockalert.KindRange}
		if i == 2 {
			e.Kind, e.Percent, e.Direction, e.DayChangePercent = stockalert.KindChangePct, 3, stockalert.DirectionUp, stockalert.Float(3.5)
			e.RuleDone = true
		}
		events = append(events, e)
	}
	require.NoError(t, a.store.InTx(context.Background(), func(ctx context.Context) error {
		var raised []command.RaisedAlert
		for _, e := range events {
			raised = append(raised, command.RaisedAlert{UserID: uid, RuleID: 7, Event: e})
		}
		return a.store.RecordAlerts(ctx, raised)
	}))
	record := command.NewRecordNotificationHandler(a.store, nil, nil)
	require.NoError(t, record.Handle(context.Background(), command.RecordNotification{Alert: events[0], UserID: uid, State: stockalert.Sent}))
	require.NoError(t, record.Handle(context.Background(), command.RecordNotification{Alert: events[1], UserID: uid,
		State: stockalert.Undeliverable, Error: "dry run: undeliverable", Reason: "no Telegram chat linked"}))
	get := func(path string) resp {
		t.Helper()
		return a.query(req{method: "GET", path: path, token: reg.Token})
	}
	res := get("/users/dot@example.com/alerts/history")
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.JSONEq(t, `{"alerts":[
		{"time":"2026-03-02T14:32:00Z","rule_id":"7","ticker":"AAPL","kind":"change_pct","condition":"above","price":103,"currency":"USD",
		 "level":100,"percent":3,"direction":"up","day_change_percent":3.5,"rule_done":true,
		 "deliveries":[{"channel":"telegram","outcome":"pending"}]},
		{"time":"2026-03-02T14:31:00Z","rule_id":"7","ticker":"AAPL","kind":"range","condition":"above","price":102,"currency":"USD",
		 "level":100,"rule_done":false,"deliveries":[{"channel":"telegram","outcome":"undeliverable","reason":"no Telegram chat linked"}]},
		{"time":"2026-03-02T14:30:00Z","rule_id":"7","ticker":"AAPL","kind":"range","condition":"above","price":101,"currency":"USD",
		 "level":100,"rule_done":false,"deliveries":[{"channel":"telegram","outcome":"sent"}]}]}`, res.body)

	res = get("/users/dot@example.com/alerts/history?limit=1&ticker=aapl")
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Equal(t, 1, strings.Count(res.body, `"rule_id"`))
	require.JSONEq(t, `{"alerts":[]}`, get("/users/dot@example.com/alerts/history?ticker=MSFT").body)

	for _, tc := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=501", "limit"}, {"limit=ten", "limit"}, {"ticker=%24%24", "ticker"}, {"since=1", "since"},
	} {
		res := get("/users/dot@example.com/alerts/history?" + tc.query)
		requireError(t, res, http.StatusBadRequest, tc.field)
	}
	res = get("/users/dot@example.com/alerts/history?limit=501")
	require.JSONEq(t, `{"error":"invalid limit: must be a whole number from 1 to 500","field":"limit"}`, res.body)
	requireError(t, a.query(req{method: "GET", path: "/users/dot@example.com/alerts/history"}), http.StatusUnauthorized, "")
}

// A 404 answers a text written for the caller, never the wrap chain of the error behind it.
func TestNotFoundBodiesArePlain(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"eve@example.com","ticker":"AAPL"}`)
	for _, tc := range []struct {
		name string
		res  resp
		want string
	}{
		{"DELETE of an unwatched ticker", a.cmd(req{method: "DELETE", path: "/users/eve@example.com/tickers/NVDA", token: reg.Token}),
			`{"error":"no rule on NVDA"}`},
		{"latest with no price", a.query(req{method: "GET", path: "/users/eve@example.com/latest?ticker=NVDA", token: reg.Token}),
			`{"error":"no price of NVDA"}`},
		{"average with no price", a.query(req{method: "GET", path: "/users/eve@example.com/average?count=2&ticker=NVDA", token: reg.Token}),
			`{"error":"no price of NVDA"}`},
		{"no such endpoint", a.query(req{method: "GET", path: "/users/eve@example.com/median", token: reg.Token}),
			`{"error":"no such endpoint"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireError(t, tc.res, http.StatusNotFound, "")
			require.JSONEq(t, tc.want, tc.res.body)
		})
	}
}
