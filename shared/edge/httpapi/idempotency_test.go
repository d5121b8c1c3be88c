package httpapi_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
)

// regKeyPrefix makes the test's registration keys as long as POST /users wants them.
const regKeyPrefix = "5f0c7a2e-93b4-4d1e-"

func withKey(r req, key string) req {
	r.header = map[string]string{"Idempotency-Key": key}
	return r
}

func TestRegisterIdempotency(t *testing.T) {
	a := newAPI(t, storetest.Open)
	register := func(key, body string) resp {
		t.Helper()
		return a.cmd(withKey(req{method: "POST", path: "/users", body: body}, regKeyPrefix+key))
	}

	t.Run("a repeat answers the first response again", func(t *testing.T) {
		first := register("reg-1", `{"email":"pam@example.com","ticker":"AAPL","high_value":200}`)
		require.Equal(t, http.StatusCreated, first.status, first.body)
		require.Empty(t, first.header.Get("Idempotent-Replayed"))
		// The same request spelled differently: key order, white space, number spelling.
		again := register("reg-1", "{ \"high_value\": 2e2,\n  \"ticker\": \"AAPL\", \"email\": \"pam@example.com\" }")
		require.Equal(t, http.StatusCreated, again.status, again.body)
		require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
		require.Equal(t, first.body, again.body, "the same body, token included")
		require.Equal(t, 1, a.count("users"))

		var reg registration
		require.NoError(t, jsonUnmarshal(again.body, &reg))
		require.Equal(t, http.StatusOK, a.query(req{method: "GET", path: "/users/pam@example.com", token: reg.Token}).status,
			"the replayed token is the one that works")
	})
	t.Run("the same key for another request is refused", func(t *testing.T) {
		before := a.rows()
		for _, body := range []string{
			`{"email":"pam@example.com","ticker":"AAPL","high_value":201}`,
			`{"email":"pam@example.com","ticker":"AAPL"}`,
			`{"email":"quin@example.com","ticker":"AAPL","high_value":200}`,
		} {
			requireError(t, register("reg-1", body), http.StatusUnprocessableEntity, "Idempotency-Key")
		}
		require.Equal(t, before, a.rows(), "nothing is written")
	})
	t.Run("a refused request does not use its key up", func(t *testing.T) {
		requireError(t, register("reg-2", `{"email":"pam@example.com","ticker":"MSFT"}`), http.StatusConflict, "email")
		requireError(t, register("reg-2", `{"email":"rex@example.com","ticker":"A A"}`), http.StatusBadRequest, "ticker")
		require.Equal(t, 1, a.count("idempotency_keys"), "only reg-1's record")
		res := register("reg-2", `{"email":"rex@example.com","ticker":"MSFT"}`)
		require.Equal(t, http.StatusCreated, res.status, res.body)
		require.Empty(t, res.header.Get("Idempotent-Replayed"))
	})
	t.Run("without a key every request runs", func(t *testing.T) {
		body := `{"email":"sal@example.com","ticker":"AAPL"}`
		require.Equal(t, http.StatusCreated, a.cmd(req{method: "POST", path: "/users", body: body}).status)
		requireError(t, a.cmd(req{method: "POST", path: "/users", body: body}), http.StatusConflict, "email")
	})
	t.Run("concurrent requests with one key register once and all get the same answer", func(t *testing.T) {
		const n = 12
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			answers = make([]resp, n)
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				answers[i] = register("reg-3", `{"email":"tia@example.com","ticker":"NVDA","low_value":50}`)
			}()
		}
		close(start)
		wg.Wait()
		ran := 0
		for i, res := range answers {
			require.Equal(t, http.StatusCreated, res.status, "request %d: %s", i, res.body)
			require.Equal(t, answers[0].body, res.body, "request %d", i)
			if res.header.Get("Idempotent-Replayed") == "" {
				ran++
			}
		}
		require.Equal(t, 1, ran, "exactly one request ran")
		require.Equal(t, 1, storetest.Count(t, a.store.DB(), "users", "email = ?", "tia@example.com"))
		require.Equal(t, 1, storetest.Count(t, a.store.DB(), "alert_rules", "ticker = ?", "NVDA"))
		require.Equal(t, 1, storetest.Count(t, a.store.DB(), "idempotency_keys", "idem_key = ?", regKeyPrefix+"reg-3"))
	})
}

func TestUpdateIdempotency(t *testing.T) {
	a := newAPI(t, storetest.Open)
	uma := a.register(`{"email":"uma@example.com","ticker":"AAPL","high_value":200}`)
	vic := a.register(`{"email":"vic@example.com","ticker":"AAPL"}`)
	patch := func(token, email, key, body string) resp {
		t.Helper()
		return a.cmd(withKey(req{method: "PATCH", path: "/users/" + email, token: token, body: body}, key))
	}

	first := patch(uma.Token, "uma@example.com", "upd-1", `{"high_value":300,"low_value":null}`)
	require.Equal(t, http.StatusOK, first.status, first.body)
	require.Contains(t, first.body, `{"ticker":"AAPL","high_value":300,"low_value":null,"alert_state":"armed"}`)
	// Something else changes the subscription; a retry of the PATCH must not undo it.
	require.Equal(t, http.StatusOK, a.cmd(req{method: "PUT", path: "/users/uma@example.com/tickers/AAPL", token: uma.Token,
		body: `{"high_value":400}`}).status)

	again := patch(uma.Token, "UMA@example.com", "upd-1", `{"low_value":null, "high_value":300.0}`)
	require.Equal(t, http.StatusOK, again.status, again.body)
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	require.Equal(t, first.body, again.body, "the first answer")
	require.Contains(t, a.query(req{method: "GET", path: "/users/uma@example.com", token: uma.Token}).body,
		`"high_value":400`, "the retry did not run again")

	t.Run("the same key for another change is refused", func(t *testing.T) {
		before := a.rows()
		requireError(t, patch(uma.Token, "uma@example.com", "upd-1", `{"high_value":300}`), http.StatusUnprocessableEntity, "Idempotency-Key")
		require.Equal(t, before, a.rows())
	})
	t.Run("each user has their own keys", func(t *testing.T) {
		res := patch(vic.Token, "vic@example.com", "upd-1", `{"high_value":300,"low_value":null}`)
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.Empty(t, res.header.Get("Idempotent-Replayed"), "another user's key of the same name is not a replay")
		require.Contains(t, res.body, `"email":"vic@example.com"`)
	})
	t.Run("keys are scoped: a registration key does not collide with an update key", func(t *testing.T) {
		res := a.cmd(withKey(req{method: "POST", path: "/users", body: `{"email":"wes@example.com","ticker":"AAPL"}`}, regKeyPrefix+"upd-1"))
		require.Equal(t, http.StatusCreated, res.status, res.body)
	})
	t.Run("a failed update does not use its key up", func(t *testing.T) {
		requireError(t, patch(uma.Token, "uma@example.com", "upd-2", `{"low_value":500}`), http.StatusBadRequest, "high_value")
		res := patch(uma.Token, "uma@example.com", "upd-2", `{"low_value":5}`)
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.Empty(t, res.header.Get("Idempotent-Replayed"))
	})
	t.Run("the records go with the user", func(t *testing.T) {
		require.Equal(t, 3, storetest.Count(t, a.store.DB(), "idempotency_keys", "scope = ?", "update-user"))
		require.Equal(t, http.StatusNoContent, a.cmd(req{method: "DELETE", path: "/users/uma@example.com", token: uma.Token}).status)
		require.Equal(t, 1, storetest.Count(t, a.store.DB(), "idempotency_keys", "scope = ?", "update-user"), "vic's stays")
	})
}

func TestRegisterRefusesAGuessableKey(t *testing.T) {
	a := newAPI(t, storetest.Open)
	res := a.cmd(withKey(req{method: "POST", path: "/users", body: `{"email":"kim@example.com","ticker":"AAPL"}`}, "reg-kim-1"))
	requireError(t, res, http.StatusBadRequest, "Idempotency-Key")
	require.Zero(t, storetest.Count(t, a.store.DB(), "users", ""), "nothing was registered")
}
