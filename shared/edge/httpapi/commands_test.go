package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// created is the test clock's start, when every test user registers.
const created = `"created_at":"2026-03-02T14:30:00Z"`

func TestRegister(t *testing.T) {
	a := newAPI(t, storetest.Open)
	res := a.cmd(req{method: "POST", path: "/users",
		body: `{"email":" Ann@Example.com ","ticker":"aapl","high_value":200,"low_value":100.5}`})
	require.Equal(t, http.StatusCreated, res.status, res.body)
	require.Equal(t, "application/json; charset=utf-8", res.header.Get("Content-Type"))
	require.Empty(t, res.header.Get("Idempotent-Replayed"))
	var reg registration
	require.NoError(t, jsonUnmarshal(res.body, &reg))
	require.Len(t, reg.Token, 32)
	require.Len(t, reg.TelegramLinkCode, 32)
	require.NotEqual(t, reg.Token, reg.TelegramLinkCode)
	require.Equal(t, fmt.Sprintf(`{"email":"ann@example.com","telegram_linked":false,"notify_interval_seconds":3600,`+
		`"paused":false,`+created+`,"subscriptions":[{"ticker":"AAPL","high_value":200,"low_value":100.5,"alert_state":"armed"}],`+
		`"token":%q,"telegram_link_code":%q,"telegram_link":"https://t.me/`+testBot+`?start=%s"}`+"\n",
		reg.Token, reg.TelegramLinkCode, reg.TelegramLinkCode), res.body)

	t.Run("only hashes of the secrets are stored", func(t *testing.T) {
		var tokenHash, codeHash string
		require.NoError(t, a.store.DB().QueryRow(`SELECT token_hash, link_code_hash FROM users WHERE email = ?`,
			"ann@example.com").Scan(&tokenHash, &codeHash))
		require.Equal(t, stockalert.HashSecret(reg.Token), tokenHash)
		require.Equal(t, stockalert.HashSecret(reg.TelegramLinkCode), codeHash)
	})
	t.Run("the token opens the account, in any spelling of the e-mail", func(t *testing.T) {
		require.Equal(t, http.StatusOK, a.query(req{method: "GET", path: "/users/ANN@example.com", token: reg.Token}).status)
	})
	t.Run("the link code links a Telegram chat once", func(t *testing.T) {
		require.NoError(t, a.link.Handle(context.Background(), command.LinkTelegram{Code: reg.TelegramLinkCode, ChatID: 4242}))
		res := a.query(req{method: "GET", path: "/users/ann@example.com", token: reg.Token})
		require.Contains(t, res.body, `"telegram_linked":true,"telegram_chat_id":4242,`)
		err := a.link.Handle(context.Background(), command.LinkTelegram{Code: reg.TelegramLinkCode, ChatID: 4343})
		require.ErrorIs(t, err, stockalert.ErrNotFound)
	})
	t.Run("with a chat and no thresholds", func(t *testing.T) {
		res := a.cmd(req{method: "POST", path: "/users",
			body: `{"email":"bo@example.com","ticker":"^GSPC","high_value":null,"telegram_chat_id":-100123}`})
		require.Equal(t, http.StatusCreated, res.status, res.body)
		var reg registration
		require.NoError(t, jsonUnmarshal(res.body, &reg))
		require.Equal(t, fmt.Sprintf(`{"email":"bo@example.com","telegram_linked":true,"telegram_chat_id":-100123,`+
			`"notify_interval_seconds":3600,"paused":false,`+created+`,`+
			`"subscriptions":[{"ticker":"^GSPC","high_value":null,"low_value":null,"alert_state":"armed"}],`+
			`"token":%q,"telegram_link_code":%q,"telegram_link":"https://t.me/`+testBot+`?start=%s",`+
			`"notice":"^GSPC is watched without a threshold: nothing will alert until you set high_value and/or low_value `+
			`(PUT /users/bo@example.com/tickers/^GSPC)"}`+"\n",
			reg.Token, reg.TelegramLinkCode, reg.TelegramLinkCode), res.body)
	})
	t.Run("with no ticker: an account to add rules to later", func(t *testing.T) {
		res := a.cmd(req{method: "POST", path: "/users", body: `{"email":"di@example.com"}`})
		require.Equal(t, http.StatusCreated, res.status, res.body)
		var reg registration
		require.NoError(t, jsonUnmarshal(res.body, &reg))
		require.Equal(t, fmt.Sprintf(`{"email":"di@example.com","telegram_linked":false,"notify_interval_seconds":3600,`+
			`"paused":false,`+created+`,"subscriptions":[],`+
			`"token":%q,"telegram_link_code":%q,"telegram_link":"https://t.me/`+testBot+`?start=%s",`+
			`"notice":"no ticker watched yet: nothing will alert until you add one with a threshold `+
			`(PUT /users/di@example.com/tickers/{ticker} with high_value and/or low_value)"}`+"\n",
			reg.Token, reg.TelegramLinkCode, reg.TelegramLinkCode), res.body)
		// The account works: a rule added later is there.
		put := a.cmd(req{method: "PUT", path: "/users/di@example.com/tickers/MSFT", token: reg.Token, body: `{"high_value":500}`})
		require.Less(t, put.status, 300, put.body)
		got := a.query(req{method: "GET", path: "/users/di@example.com", token: reg.Token})
		require.Contains(t, got.body, `"subscriptions":[{"ticker":"MSFT","high_value":500,"low_value":null,"alert_state":"armed"}]`)
	})
	t.Run("a threshold on any ticker: no notice", func(t *testing.T) {
		require.NotContains(t, a.cmd(req{method: "POST", path: "/users",
			body: `{"email":"ed@example.com","ticker":"MSFT","low_value":1}`}).body, `"notice"`)
	})
	t.Run("extreme values are stored exactly", func(t *testing.T) {
		email := "😀.Ünïcödé@bücher.example"
		reg := a.register(`{"email":"` + email + `","ticker":"BRK-B","high_value":1e12,"low_value":5e-324,` +
			`"telegram_chat_id":-9223372036854775808}`)
		res := a.query(req{method: "GET", path: "/users/" + url.PathEscape(email), token: reg.Token})
		require.Equal(t, http.StatusOK, res.status, res.body)
		// The address is normalised: local part lower-cased (NFC), the domain in its IDNA ASCII form;
		// the Unicode spelling in the path finds the account.
		require.Equal(t, `{"email":"😀.ünïcödé@xn--bcher-kva.example","telegram_linked":true,"telegram_chat_id":-9223372036854775808,`+
			`"notify_interval_seconds":3600,"paused":false,`+created+`,`+
			`"subscriptions":[{"ticker":"BRK-B","high_value":1000000000000,"low_value":5e-324,"alert_state":"armed"}]}`+"\n", res.body)
	})
	t.Run("without a bot username there is no link", func(t *testing.T) {
		b := newAPIWithBot(t, storetest.Open, "")
		res := b.cmd(req{method: "POST", path: "/users", body: `{"email":"cy@example.com","ticker":"MSFT"}`})
		require.Equal(t, http.StatusCreated, res.status, res.body)
		require.NotContains(t, res.body, "telegram_link\"")
		require.Contains(t, res.body, `"telegram_link_code":"`)
	})
}

func TestUpdate(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"dee@example.com","ticker":"AAPL","high_value":200,"low_value":100}`)
	patch := func(body string) resp {
		t.Helper()
		return a.cmd(req{method: "PATCH", path: "/users/dee@example.com", token: reg.Token, body: body})
	}
	profile := func(subs string) string {
		return `{"email":"dee@example.com","telegram_linked":false,"notify_interval_seconds":3600,"paused":false,` +
			created + `,"subscriptions":[` + subs + `]}` + "\n"
	}
	for _, step := range []struct {
		name, body, subs string
	}{
		{"a bound alone", `{"high_value":250}`,
			`{"ticker":"AAPL","high_value":250,"low_value":100,"alert_state":"armed"}`},
		{"null clears a bound", `{"low_value":null}`,
			`{"ticker":"AAPL","high_value":250,"low_value":null,"alert_state":"armed"}`},
		{"a new ticker moves the subscription with its thresholds", `{"ticker":"msft"}`,
			`{"ticker":"MSFT","high_value":250,"low_value":null,"alert_state":"armed"}`},
		{"an empty object changes nothing", `{}`,
			`{"ticker":"MSFT","high_value":250,"low_value":null,"alert_state":"armed"}`},
		{"everything at once", `{"ticker":"NVDA","high_value":null,"low_value":90.25}`,
			`{"ticker":"NVDA","high_value":null,"low_value":90.25,"alert_state":"armed"}`},
	} {
		t.Run(step.name, func(t *testing.T) {
			res := patch(step.body)
			require.Equal(t, http.StatusOK, res.status, res.body)
			require.Equal(t, profile(step.subs), res.body)
			require.Equal(t, 1, a.count("alert_rules"))
		})
	}
	t.Run("a user with several tickers is a conflict", func(t *testing.T) {
		require.Equal(t, http.StatusOK, a.cmd(req{method: "PUT", path: "/users/dee@example.com/tickers/AAPL",
			token: reg.Token, body: `{}`}).status)
		res := patch(`{"high_value":1}`)
		requireError(t, res, http.StatusConflict, "ticker")
		require.JSONEq(t, `{"error":"the user watches 2 tickers: change each with PUT /users/{email}/tickers/{ticker}","field":"ticker"}`, res.body)
	})
}

func TestPutAndDeleteTicker(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"fay@example.com","ticker":"MSFT","high_value":500}`)
	put := func(ticker, body string) resp {
		t.Helper()
		return a.cmd(req{method: "PUT", path: "/users/fay@example.com/tickers/" + ticker, token: reg.Token, body: body})
	}
	profile := func(subs string) string {
		return `{"email":"fay@example.com","telegram_linked":false,"notify_interval_seconds":3600,"paused":false,` +
			created + `,"subscriptions":[` + subs + `]}` + "\n"
	}
	const msft = `{"ticker":"MSFT","high_value":500,"low_value":null,"alert_state":"armed"}`

	res := put("aapl", `{"high_value":210.5,"low_value":150}`)
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Equal(t, profile(`{"ticker":"AAPL","high_value":210.5,"low_value":150,"alert_state":"armed"},`+msft), res.body)

	res = put("AAPL", `{"low_value":140}`)
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Equal(t, profile(`{"ticker":"AAPL","high_value":null,"low_value":140,"alert_state":"armed"},`+msft), res.body,
		"PUT replaces the whole range: the absent bound is no longer watched")
	require.Equal(t, res, put("AAPL", `{"low_value":140}`), "a repeated PUT is the same")

	res = a.cmd(req{method: "DELETE", path: "/users/fay@example.com/tickers/aapl", token: reg.Token})
	require.Equal(t, http.StatusNoContent, res.status, res.body)
	require.Empty(t, res.body)
	require.Equal(t, profile(msft), a.query(req{method: "GET", path: "/users/fay@example.com", token: reg.Token}).body)

	res = a.cmd(req{method: "DELETE", path: "/users/fay@example.com/tickers/AAPL", token: reg.Token})
	requireError(t, res, http.StatusNotFound, "")
	require.JSONEq(t, `{"error":"no rule on AAPL"}`, res.body, "a plain text, not the wrap chain")
}

func TestDeleteUser(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"gil@example.com","ticker":"MSFT","high_value":500}`)
	other := a.register(`{"email":"hal@example.com","ticker":"MSFT"}`)
	// An idempotency record and a second subscription belong to gil too.
	require.Equal(t, http.StatusOK, a.cmd(req{method: "PATCH", path: "/users/gil@example.com", token: reg.Token,
		body: `{"high_value":600}`, header: map[string]string{"Idempotency-Key": "gil-1"}}).status)
	require.Equal(t, http.StatusOK, a.cmd(req{method: "PUT", path: "/users/gil@example.com/tickers/AAPL", token: reg.Token,
		body: `{}`}).status)
	require.Equal(t, 1, a.count("idempotency_keys"))

	res := a.cmd(req{method: "DELETE", path: "/users/gil@example.com", token: reg.Token})
	require.Equal(t, http.StatusNoContent, res.status, res.body)
	require.Empty(t, res.body)
	require.Equal(t, 1, a.count("users"))
	require.Equal(t, 1, a.count("alert_rules"), "hal's stays")
	require.Zero(t, a.count("idempotency_keys"))

	requireError(t, a.query(req{method: "GET", path: "/users/gil@example.com", token: reg.Token}), http.StatusUnauthorized, "")
	requireError(t, a.cmd(req{method: "DELETE", path: "/users/gil@example.com", token: reg.Token}), http.StatusUnauthorized, "")
	require.Equal(t, http.StatusOK, a.query(req{method: "GET", path: "/users/hal@example.com", token: other.Token}).status)
	a.register(`{"email":"gil@example.com","ticker":"MSFT"}`) // the e-mail is free again
}

func TestTelegramLink(t *testing.T) {
	a := newAPI(t, storetest.Open)
	reg := a.register(`{"email":"ida@example.com","ticker":"MSFT"}`)
	res := a.cmd(req{method: "POST", path: "/users/ida@example.com/telegram-link", token: reg.Token})
	require.Equal(t, http.StatusOK, res.status, res.body)
	var got registration
	require.NoError(t, jsonUnmarshal(res.body, &got))
	require.Len(t, got.TelegramLinkCode, 32)
	require.Equal(t, fmt.Sprintf(`{"telegram_link_code":%q,"telegram_link":"https://t.me/%s?start=%s"}`+"\n",
		got.TelegramLinkCode, testBot, got.TelegramLinkCode), res.body)

	ctx := context.Background()
	require.ErrorIs(t, a.link.Handle(ctx, command.LinkTelegram{Code: reg.TelegramLinkCode, ChatID: 7}), stockalert.ErrNotFound,
		"the new code replaces the one given at registration")
	require.NoError(t, a.link.Handle(ctx, command.LinkTelegram{Code: got.TelegramLinkCode, ChatID: 7}))
	require.Contains(t, a.query(req{method: "GET", path: "/users/ida@example.com", token: reg.Token}).body,
		`"telegram_linked":true,"telegram_chat_id":7,`)
}

// TestUserCommandsErrors sends bad requests of every kind and checks each answer's status and field,
// and that nothing was written.
func TestUserCommandsErrors(t *testing.T) {
	a := newAPI(t, storetest.Open)
	eve := a.register(`{"email":"eve@example.com","ticker":"AAPL","high_value":200,"telegram_chat_id":77}`)
	a.register(`{"email":"jos\u00e9@example.com","ticker":"AAPL"}`)
	a.register(`{"email":"ann@xn--bcher-kva.de","ticker":"AAPL"}`)
	post := func(body string) req { return req{method: "POST", path: "/users", body: body} }
	patch := func(body string) req {
		return req{method: "PATCH", path: "/users/eve@example.com", token: eve.Token, body: body}
	}
	put := func(ticker, body string) req {
		return req{method: "PUT", path: "/users/eve@example.com/tickers/" + ticker, token: eve.Token, body: body}
	}
	withHeader := func(r req, k, v string) req {
		r.header = map[string]string{k: v}
		return r
	}
	big := `{"email":"` + strings.Repeat("a", testMaxBody) + `@example.com","ticker":"AAPL"}`

	for _, tc := range []struct {
		name   string
		req    req
		status int
		field  string
	}{
		{"register: no body", post(""), http.StatusBadRequest, "body"},
		{"register: not an object", post(`["eve@example.com"]`), http.StatusBadRequest, "body"},
		{"register: malformed JSON", post(`{"email":"x@example.com",}`), http.StatusBadRequest, "body"},
		{"register: two objects", post(`{"email":"x@example.com","ticker":"A"}{}`), http.StatusBadRequest, "body"},
		{"register: unknown field", post(`{"email":"x@example.com","ticker":"A","interval":5}`), http.StatusBadRequest, "interval"},
		{"register: no e-mail", post(`{"ticker":"AAPL"}`), http.StatusBadRequest, "email"},
		{"register: not an e-mail", post(`{"email":"Eve <eve@example.com>","ticker":"AAPL"}`), http.StatusBadRequest, "email"},
		{"register: e-mail of the wrong type", post(`{"email":["x@example.com"],"ticker":"AAPL"}`), http.StatusBadRequest, "email"},
		{"register: a threshold without a ticker", post(`{"email":"x@example.com","high_value":10}`), http.StatusBadRequest, "ticker"},
		{"register: an empty ticker with a threshold", post(`{"email":"x@example.com","ticker":"","low_value":1}`), http.StatusBadRequest, "ticker"},
		{"register: bad ticker", post(`{"email":"x@example.com","ticker":"AA PL"}`), http.StatusBadRequest, "ticker"},
		{"register: threshold as a string", post(`{"email":"x@example.com","ticker":"A","high_value":"10"}`), http.StatusBadRequest, "high_value"},
		{"register: negative threshold", post(`{"email":"x@example.com","ticker":"A","low_value":-1}`), http.StatusBadRequest, "low_value"},
		{"register: zero threshold", post(`{"email":"x@example.com","ticker":"A","high_value":0}`), http.StatusBadRequest, "high_value"},
		{"register: threshold too large", post(`{"email":"x@example.com","ticker":"A","high_value":1e13}`), http.StatusBadRequest, "high_value"},
		{"register: threshold beyond float64", post(`{"email":"x@example.com","ticker":"A","high_value":1e400}`), http.StatusBadRequest, "high_value"},
		{"register: high not above low", post(`{"email":"x@example.com","ticker":"A","high_value":10,"low_value":10}`), http.StatusBadRequest, "high_value"},
		{"register: chat 0", post(`{"email":"x@example.com","ticker":"A","telegram_chat_id":0}`), http.StatusBadRequest, "telegram_chat_id"},
		{"register: fractional chat", post(`{"email":"x@example.com","ticker":"A","telegram_chat_id":1.5}`), http.StatusBadRequest, "telegram_chat_id"},
		{"register: chat beyond int64", post(`{"email":"x@example.com","ticker":"A","telegram_chat_id":9223372036854775808}`), http.StatusBadRequest, "telegram_chat_id"},
		{"register: e-mail taken", post(`{"email":"EVE@example.com","ticker":"MSFT"}`), http.StatusConflict, "email"},
		{"register: chat taken", post(`{"email":"x@example.com","ticker":"MSFT","telegram_chat_id":77}`), http.StatusConflict, "telegram_chat_id"},
		// Strict JSON (issue 10, item 11): nothing is silently replaced, and one reading is the only one.
		{"register: invalid UTF-8 in the e-mail", post("{\"email\":\"a\xffb@example.com\",\"ticker\":\"AAPL\"}"), http.StatusBadRequest, "email"},
		{"register: a lone surrogate in the e-mail", post(`{"email":"a\udc00b@example.com","ticker":"AAPL"}`), http.StatusBadRequest, "email"},
		{"register: invalid UTF-8 in a name", post("{\"email\":\"x@example.com\",\"tick\xc3r\":\"AAPL\"}"), http.StatusBadRequest, "body"},
		{"register: e-mail given twice", post(`{"email":"a@x.com","email":"b@x.com","ticker":"AAPL"}`), http.StatusBadRequest, "email"},
		{"register: e-mail and a case variant", post(`{"email":"a@x.com","EMAIL":"b@x.com","ticker":"AAPL"}`), http.StatusBadRequest, "EMAIL"},
		{"register: a case variant alone", post(`{"Email":"a@x.com","ticker":"AAPL"}`), http.StatusBadRequest, "Email"},
		{"register: threshold given twice", post(`{"email":"x@example.com","ticker":"AAPL","high_value":-5,"high_value":7}`), http.StatusBadRequest, "high_value"},
		// Invisible characters: a second account that looks identical to eve's.
		{"register: zero-width space in the e-mail", post(`{"email":"eve\u200b@example.com","ticker":"AAPL"}`), http.StatusBadRequest, "email"},
		{"register: bidi override in the e-mail", post(`{"email":"\u202eeve@example.com","ticker":"AAPL"}`), http.StatusBadRequest, "email"},
		{"register: raw zero-width joiner in the e-mail", post("{\"email\":\"ev\u200de@example.com\",\"ticker\":\"AAPL\"}"), http.StatusBadRequest, "email"},
		{"register: an NFD spelling of a taken address", post(`{"email":"Jose\u0301@example.com","ticker":"AAPL"}`), http.StatusConflict, "email"},
		{"register: the Unicode spelling of a taken IDN address", post(`{"email":"ann@B\u00fccher.de","ticker":"AAPL"}`), http.StatusConflict, "email"},

		{"patch: threshold given twice", patch(`{"high_value":300,"high_value":100}`), http.StatusBadRequest, "high_value"},
		{"patch: ticker in two cases", patch(`{"ticker":"MSFT","Ticker":"IBM"}`), http.StatusBadRequest, "Ticker"},
		{"put: invalid UTF-8 in a name", put("MSFT", "{\"high_\xffvalue\":1}"), http.StatusBadRequest, "body"},
		{"put: threshold given twice", put("MSFT", `{"low_value":1,"low_value":2}`), http.StatusBadRequest, "low_value"},

		{"register: not JSON", withHeader(post(`{"email":"x@example.com","ticker":"A"}`), "Content-Type", "text/plain"),
			http.StatusUnsupportedMediaType, "Content-Type"},
		{"register: bad Content-Type", withHeader(post(`{"email":"x@example.com","ticker":"A"}`), "Content-Type", "application/json; ==="),
			http.StatusUnsupportedMediaType, "Content-Type"},
		{"register: body too large", post(big), http.StatusRequestEntityTooLarge, "body"},
		{"register: Idempotency-Key with a space", withHeader(post(`{"email":"x@example.com","ticker":"A"}`), "Idempotency-Key", "a b"),
			http.StatusBadRequest, "Idempotency-Key"},
		{"register: Idempotency-Key too long", withHeader(post(`{"email":"x@example.com","ticker":"A"}`), "Idempotency-Key", strings.Repeat("k", 129)),
			http.StatusBadRequest, "Idempotency-Key"},
		{"register: Idempotency-Key for a bad request", withHeader(post(`{"email":"x@example.com","ticker":"A B"}`), "Idempotency-Key", regKeyPrefix+"k1"),
			http.StatusBadRequest, "ticker"},

		{"patch: no body", patch(""), http.StatusBadRequest, "body"},
		{"patch: a string", patch(`"AAPL"`), http.StatusBadRequest, "body"},
		{"patch: an array", patch(`[{"ticker":"AAPL"}]`), http.StatusBadRequest, "body"},
		{"patch: unknown field", patch(`{"tickr":"MSFT"}`), http.StatusBadRequest, "tickr"},
		{"patch: null ticker", patch(`{"ticker":null}`), http.StatusBadRequest, "ticker"},
		{"patch: numeric ticker", patch(`{"ticker":5}`), http.StatusBadRequest, "ticker"},
		{"patch: bad ticker", patch(`{"ticker":"$$$"}`), http.StatusBadRequest, "ticker"},
		{"patch: threshold as a string", patch(`{"high_value":"300"}`), http.StatusBadRequest, "high_value"},
		{"patch: threshold as an object", patch(`{"low_value":{"v":1}}`), http.StatusBadRequest, "low_value"},
		{"patch: threshold beyond float64", patch(`{"low_value":-1e999}`), http.StatusBadRequest, "low_value"},
		{"patch: resulting range inverted", patch(`{"low_value":250}`), http.StatusBadRequest, "high_value"},
		{"patch: not JSON", withHeader(patch(`{}`), "Content-Type", "application/x-www-form-urlencoded"),
			http.StatusUnsupportedMediaType, "Content-Type"},
		{"patch: body too large", patch(`{"ticker":"` + strings.Repeat(" ", testMaxBody) + `"}`), http.StatusRequestEntityTooLarge, "body"},
		{"patch: Idempotency-Key sent empty", withHeader(patch(`{"high_value":300}`), "Idempotency-Key", " "),
			http.StatusBadRequest, "Idempotency-Key"},

		{"put: bad ticker", put("A%20B", `{}`), http.StatusBadRequest, "ticker"},
		{"put: ticker too long", put(strings.Repeat("A", 17), `{}`), http.StatusBadRequest, "ticker"},
		{"put: no body", put("MSFT", ""), http.StatusBadRequest, "body"},
		{"put: unknown field", put("MSFT", `{"ticker":"MSFT"}`), http.StatusBadRequest, "ticker"},
		{"put: threshold as a string", put("MSFT", `{"high_value":"1"}`), http.StatusBadRequest, "high_value"},
		{"put: inverted range", put("MSFT", `{"high_value":5,"low_value":6}`), http.StatusBadRequest, "high_value"},
		{"put: infinite threshold", put("MSFT", `{"low_value":1e309}`), http.StatusBadRequest, "low_value"},

		{"delete ticker: not watched", req{method: "DELETE", path: "/users/eve@example.com/tickers/MSFT", token: eve.Token},
			http.StatusNotFound, ""},
		{"delete ticker: bad ticker", req{method: "DELETE", path: "/users/eve@example.com/tickers/%24", token: eve.Token},
			http.StatusBadRequest, "ticker"},

		{"no such path", req{method: "GET", path: "/stocks"}, http.StatusNotFound, ""},
		{"no such path under a user", req{method: "POST", path: "/users/eve@example.com/tickers", token: eve.Token}, http.StatusNotFound, ""},
		{"trailing slash", req{method: "POST", path: "/users/", body: `{}`}, http.StatusNotFound, ""},
		{"a dot-dot path is not redirected to another route", req{method: "DELETE", path: "/users/eve@example.com/tickers/..",
			token: eve.Token}, http.StatusNotFound, ""},
		{"a dot path", req{method: "DELETE", path: "/users/eve@example.com/./tickers/AAPL", token: eve.Token}, http.StatusNotFound, ""},
		{"a double slash", req{method: "PATCH", path: "//users/eve@example.com", token: eve.Token, body: `{}`}, http.StatusNotFound, ""},
		{"an escaped dot-dot ticker", req{method: "DELETE", path: "/users/eve@example.com/tickers/%2E%2E", token: eve.Token},
			http.StatusBadRequest, "ticker"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.rows()
			profile := a.query(req{method: "GET", path: "/users/eve@example.com", token: eve.Token}).body
			requireError(t, a.cmd(tc.req), tc.status, tc.field)
			require.Equal(t, before, a.rows(), "nothing is written")
			require.Equal(t, profile, a.query(req{method: "GET", path: "/users/eve@example.com", token: eve.Token}).body)
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	a := newAPI(t, storetest.Open)
	for _, tc := range []struct {
		h             func(req) resp
		method, path  string
		allow, reason string
	}{
		{a.cmd, "GET", "/users", "POST", ""},
		{a.cmd, "DELETE", "/users", "POST", ""},
		{a.cmd, "GET", "/users/x@example.com", "DELETE, PATCH", ""},
		{a.cmd, "POST", "/users/x@example.com/tickers/AAPL", "DELETE, PUT", ""},
		{a.cmd, "GET", "/users/x@example.com/telegram-link", "POST", ""},
		{a.query, "POST", "/users/x@example.com", "GET, HEAD", ""},
		{a.query, "DELETE", "/users/x@example.com/latest", "GET, HEAD", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			res := tc.h(req{method: tc.method, path: tc.path})
			requireError(t, res, http.StatusMethodNotAllowed, "")
			require.Equal(t, tc.allow, res.header.Get("Allow"))
		})
	}
}

// TestInternalErrors checks a fault of the system is a bare 500, logged with the cause but never sent.
func TestInternalErrors(t *testing.T) {
	a := newAPI(t, storetest.Open)
	require.NoError(t, a.store.DB().Close())
	for _, res := range []resp{
		a.cmd(req{method: "POST", path: "/users", body: `{"email":"jo@example.com","ticker":"AAPL"}`}),
		a.query(req{method: "GET", path: "/users/jo@example.com", token: "tok"}),
	} {
		require.Equal(t, http.StatusInternalServerError, res.status)
		require.Equal(t, `{"error":"internal error"}`+"\n", res.body)
	}
	logs := a.logs.String()
	require.Contains(t, logs, "request failed")
	require.Contains(t, logs, "sql: database is closed")
	require.Contains(t, logs, `route="POST /users"`)
	require.Contains(t, logs, `route="GET /users/{email}"`)
}

func TestRegisterCanRefuseAnUnverifiedChat(t *testing.T) {
	a := newAPIWith(t, storetest.Open, "", true)
	res := a.cmd(req{method: "POST", path: "/users", body: `{"email":"lou@example.com","ticker":"AAPL","telegram_chat_id":99}`})
	requireError(t, res, http.StatusBadRequest, "telegram_chat_id")
	require.Zero(t, storetest.Count(t, a.store.DB(), "users", ""))
	res = a.cmd(req{method: "POST", path: "/users", body: `{"email":"lou@example.com","ticker":"AAPL"}`})
	require.Equal(t, http.StatusCreated, res.status, res.body)
}
