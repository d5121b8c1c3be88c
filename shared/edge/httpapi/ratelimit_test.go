package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/edge/httpapi"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
)

// limitedAPI is the API with the default limits (30 per minute, burst 30, one trusted hop) on a clock
// the test moves.
func limitedAPI(t *testing.T) (*api, *storetest.Clock, *prometheus.Registry) {
	t.Helper()
	clock := storetest.NewClock()
	reg := prometheus.NewRegistry()
	lim, err := httpapi.NewClientLimiter(httpapi.ClientLimits{PerMinute: 30, Burst: 30, TrustedProxyHops: 1,
		MaxClients: 100, Now: clock.Now}, reg)
	require.NoError(t, err)
	a := newAPIWith(t, storetest.Open, "", false, func(_ *sqlstore.Store, d *httpapi.UserCommands) { d.Limiter = lim })
	return a, clock, reg
}

// registerFrom posts a registration of email through a gateway that forwards for xff.
func registerFrom(a *api, email, xff string) resp {
	a.t.Helper()
	return a.cmd(req{method: "POST", path: "/users", body: fmt.Sprintf(`{"email":%q,"ticker":"AAPL"}`, email),
		header: map[string]string{"X-Forwarded-For": xff}})
}

func TestRegistrationsAreLimitedPerClientAddress(t *testing.T) {
	a, clock, reg := limitedAPI(t)
	for i := range 30 {
		res := registerFrom(a, fmt.Sprintf("u%d@example.com", i), "203.0.113.7:4312")
		require.Equal(t, http.StatusCreated, res.status, "registration %d: %s", i, res.body)
	}

	// The 31st within the minute: 429, when to come back, a JSON body, and nothing stored.
	res := registerFrom(a, "u30@example.com", "203.0.113.7:5511")
	requireError(t, res, http.StatusTooManyRequests, "")
	require.Equal(t, "2", res.header.Get("Retry-After"), "one registration every 2 s at 30 per minute")
	require.Equal(t, 30, a.count("users"))
	require.InDelta(t, 1, limitedCount(t, reg), 0)

	t.Run("another address is not held back", func(t *testing.T) {
		require.Equal(t, http.StatusCreated, registerFrom(a, "other@example.com", "198.51.100.9:80").status)
	})
	t.Run("writes that can add a symbol share the address's limit; reads do not", func(t *testing.T) {
		tok := a.register(`{"email":"auth@example.com","ticker":"MSFT"}`) // from the test's peer address
		limited := map[string]string{"X-Forwarded-For": "203.0.113.7:4312"}
		res := a.cmd(req{method: "PUT", path: "/users/auth@example.com/tickers/NVDA", body: `{}`, token: tok.Token, header: limited})
		requireError(t, res, http.StatusTooManyRequests, "")
		res = a.cmd(req{method: "PATCH", path: "/users/auth@example.com", body: `{"ticker":"NVDA"}`, token: tok.Token, header: limited})
		requireError(t, res, http.StatusTooManyRequests, "")
		res = a.query(req{method: "GET", path: "/users/auth@example.com", token: tok.Token, header: limited})
		require.Equal(t, http.StatusOK, res.status, res.body)
	})
	t.Run("the address is let in again once a token is back", func(t *testing.T) {
		clock.Advance(2 * time.Second)
		require.Equal(t, http.StatusCreated, registerFrom(a, "u30@example.com", "203.0.113.7:5511").status)
		requireError(t, registerFrom(a, "u31@example.com", "203.0.113.7:5511"), http.StatusTooManyRequests, "")
	})
}

// A script that writes its own X-Forwarded-For entries in front of the one the gateway appends is
// still one client.
func TestSpoofedForwardedEntriesDoNotEscapeTheLimit(t *testing.T) {
	a, _, _ := limitedAPI(t)
	for i := range 30 {
		spoof := fmt.Sprintf("10.%d.0.1, 192.0.2.%d", i, i)
		require.Equal(t, http.StatusCreated, registerFrom(a, fmt.Sprintf("s%d@example.com", i), spoof+", 203.0.113.7:4312").status)
	}
	requireError(t, registerFrom(a, "s30@example.com", "1.2.3.4, 203.0.113.7:4312"), http.StatusTooManyRequests, "")
}

func TestClientAddress(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remote string
		xff    []string
		hops   int
		want   string
	}{
		{"no header: the peer", "192.0.2.1:1234", nil, 1, "192.0.2.1"},
		{"the gateway's entry, port dropped", "10.0.0.2:80", []string{"203.0.113.7:4312"}, 1, "203.0.113.7"},
		{"an entry without a port", "10.0.0.2:80", []string{"203.0.113.7"}, 1, "203.0.113.7"},
		{"entries written by the client are skipped", "10.0.0.2:80", []string{"6.6.6.6, 7.7.7.7,203.0.113.7:4312"}, 1, "203.0.113.7"},
		{"two trusted hops: a load balancer in front of the gateway", "10.0.0.2:80",
			[]string{"6.6.6.6, 203.0.113.7:4312, 10.0.0.5"}, 2, "203.0.113.7"},
		{"several header lines are one list", "10.0.0.2:80", []string{"6.6.6.6", "203.0.113.7:4312"}, 1, "203.0.113.7"},
		{"fewer entries than hops: the first", "10.0.0.2:80", []string{"203.0.113.7:4312"}, 3, "203.0.113.7"},
		{"no trusted hop: the header is ignored", "192.0.2.1:1234", []string{"203.0.113.7"}, 0, "192.0.2.1"},
		{"an empty header: the peer", "192.0.2.1:1234", []string{" , "}, 1, "192.0.2.1"},
		{"IPv6 with brackets and port: its /64", "10.0.0.2:80", []string{"[2001:db8:1:2:3::9]:443"}, 1, "2001:db8:1:2::/64"},
		{"IPv6 peer: its /64", "[2001:db8:1:2::1]:80", nil, 1, "2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6 is the IPv4 address", "10.0.0.2:80", []string{"::ffff:203.0.113.7"}, 1, "203.0.113.7"},
		{"not an address: as written", "10.0.0.2:80", []string{"unknown"}, 1, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/users", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			require.Equal(t, tc.want, httpapi.ClientAddress(r, tc.hops))
		})
	}
}

func TestTheLimiterForgetsIdleAddressesAndStaysBounded(t *testing.T) {
	clock := storetest.NewClock()
	lim, err := httpapi.NewClientLimiter(httpapi.ClientLimits{PerMinute: 30, Burst: 2, TrustedProxyHops: 1,
		MaxClients: 3, Now: clock.Now}, nil)
	require.NoError(t, err)
	h := lim.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	call := func(addr string) int {
		r := httptest.NewRequest("POST", "/users", nil)
		r.Header.Set("X-Forwarded-For", addr)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for i := range 10 {
		require.Equal(t, http.StatusNoContent, call(fmt.Sprintf("192.0.2.%d", i)))
		require.LessOrEqual(t, lim.Clients(), 3)
	}

	// A busy address is remembered while newer ones come and go: the least recently seen goes first.
	clock.Advance(500 * time.Millisecond)
	require.Equal(t, http.StatusNoContent, call("203.0.113.7"))
	require.Equal(t, http.StatusNoContent, call("203.0.113.7"))
	require.Equal(t, http.StatusTooManyRequests, call("203.0.113.7"))
	clock.Advance(500 * time.Millisecond)
	require.Equal(t, http.StatusNoContent, call("198.51.100.1"))
	require.Equal(t, http.StatusTooManyRequests, call("203.0.113.7"), "still remembered, still limited")

	// Once its bucket would be full again (burst 2 at one per 2 s: 4 s), an idle address is forgotten
	// to make room, which changes nothing for it.
	clock.Advance(4 * time.Second)
	require.Equal(t, http.StatusNoContent, call("198.51.100.2"))
	require.Equal(t, 1, lim.Clients(), "every idle address forgotten at once")
}

func TestNoLimitWhenPerMinuteIsZero(t *testing.T) {
	lim, err := httpapi.NewClientLimiter(httpapi.ClientLimits{PerMinute: 0}, nil)
	require.NoError(t, err)
	require.Nil(t, lim)
	_, err = httpapi.NewClientLimiter(httpapi.ClientLimits{PerMinute: 30, Burst: 0, MaxClients: 1}, nil)
	require.ErrorContains(t, err, "PUBLIC_WRITES_BURST")
	_, err = httpapi.NewClientLimiter(httpapi.ClientLimits{PerMinute: 30, Burst: 1, TrustedProxyHops: -1, MaxClients: 1}, nil)
	require.ErrorContains(t, err, "TRUSTED_PROXY_HOPS")
}

// limitedCount is stockalert_http_rate_limited_total of reg.
func limitedCount(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	require.Len(t, mfs, 1)
	require.Equal(t, "stockalert_http_rate_limited_total", mfs[0].GetName())
	return mfs[0].GetMetric()[0].GetCounter().GetValue()
}
