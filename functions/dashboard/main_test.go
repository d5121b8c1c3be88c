package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/functions/dashboard/dashboardapp"
	"github.com/stockalert/stockalert/internal/faastest"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/edge/web"
	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/stockalert"
)

var _ = web.SessionCookie

// rig is the dashboard function over a fresh store with one user whose Telegram chat is linked.
type rig struct {
	t     *testing.T
	base  string
	store *sqlstore.Store
	email string
	chat  int64
}

func newRig(t *testing.T) *rig {
	t.Helper()
	// Simulated quotes: the charts need a price history, and tests make no call to Yahoo.
	env := faastest.Env(t, nil, map[string]string{"QUOTE_SOURCE": "simulated"})
	base := faastest.Run(t, dashboardapp.Name, dashboardapp.Wire, env)
	store := faastest.Store(t, env)
	chat := int64(777)
	if err := command.NewRegisterUserHandler(store, nil, nil).Handle(context.Background(), command.RegisterUser{
		Email: "dana@example.com", TelegramChatID: &chat, TokenHash: stockalert.HashSecret(stockalert.NewSecret()),
		LinkCodeHash: stockalert.HashSecret(stockalert.NewSecret()),
	}); err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, base: base, store: store, email: "dana@example.com", chat: chat}
}

// issue makes a sign-in code as the bot's /web does, valid for ttl.
func (r *rig) issue(ttl time.Duration) string {
	r.t.Helper()
	code := stockalert.NewSecret()
	err := command.NewIssueWebLoginHandler(r.store, nil, nil, nil).Handle(context.Background(),
		command.IssueWebLogin{ChatID: r.chat, CodeHash: command.WebSecretHash(code), TTL: ttl})
	if err != nil {
		r.t.Fatal(err)
	}
	return code
}

func (r *rig) count(table string) int {
	r.t.Helper()
	var n int
	if err := r.store.DB().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// client is a browser-like client: a cookie jar, no redirects followed.
func client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// answer is a response read whole.
type answer struct {
	StatusCode int
	Header     http.Header
	cookies    []*http.Cookie
}

func (a answer) Cookies() []*http.Cookie { return a.cookies }

func do(t *testing.T, c *http.Client, method, u string, form url.Values, header http.Header) (answer, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{StatusCode: resp.StatusCode, Header: resp.Header, cookies: resp.Cookies()}, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

// signIn signs c in with a fresh code and returns the page's CSRF token.
func (r *rig) signIn(c *http.Client) string {
	r.t.Helper()
	resp, body := do(r.t, c, "POST", r.base+"/login", url.Values{"code": {r.issue(time.Minute)}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		r.t.Fatalf("POST /login = %d %s", resp.StatusCode, body)
	}
	resp, body = do(r.t, c, "GET", r.base+"/", nil, nil)
	m := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		r.t.Fatalf("GET / = %d, no CSRF token: %s", resp.StatusCode, body)
	}
	return m[1]
}

func TestLoginLinkGETChangesNothingAndTheCodeWorksOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	code := r.issue(time.Minute)
	c := client(t)

	// A link scanner's GET shows the button and uses nothing up.
	resp, body := do(t, c, "GET", r.base+"/login?code="+url.QueryEscape(code), nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<button type="submit">Sign in</button>`) || len(resp.Cookies()) != 0 {
		t.Fatalf("GET /login = %d, cookies %v: %s", resp.StatusCode, resp.Cookies(), body)
	}
	if r.count("web_logins") != 1 || r.count("web_sessions") != 0 {
		t.Fatalf("GET changed the store: %d codes, %d sessions", r.count("web_logins"), r.count("web_sessions"))
	}

	resp, body = do(t, c, "POST", r.base+"/login", url.Values{"code": {code}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "./" {
		t.Fatalf("POST /login = %d %v: %s", resp.StatusCode, resp.Header, body)
	}
	if r.count("web_logins") != 0 || r.count("web_sessions") != 1 {
		t.Fatalf("after sign-in: %d codes, %d sessions", r.count("web_logins"), r.count("web_sessions"))
	}
	if resp, body := do(t, c, "GET", r.base+"/", nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Signed in as dana@example.com") {
		t.Fatalf("GET / signed in = %d: %s", resp.StatusCode, body)
	}

	// The same code again, from another browser: refused, no second session.
	resp, body = do(t, client(t), "POST", r.base+"/login", url.Values{"code": {code}}, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "unknown, used or expired") || len(resp.Cookies()) != 0 {
		t.Fatalf("reused code = %d %v: %s", resp.StatusCode, resp.Cookies(), body)
	}
	if r.count("web_sessions") != 1 {
		t.Fatalf("a reused code made a session")
	}
}

func TestLoginRefusesAnExpiredCodeAndNoCode(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	code := r.issue(time.Nanosecond) // expired by the time it is used: the store keeps milliseconds
	resp, body := do(t, client(t), "POST", r.base+"/login", url.Values{"code": {code}}, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "code: this sign-in link is unknown, used or expired") {
		t.Fatalf("expired code = %d: %s", resp.StatusCode, body)
	}
	resp, body = do(t, client(t), "GET", r.base+"/login", nil, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "This link has no code") {
		t.Fatalf("GET /login without code = %d: %s", resp.StatusCode, body)
	}
	if r.count("web_sessions") != 0 {
		t.Fatal("a refused sign-in made a session")
	}
}

func TestSessionCookieFlags(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	for _, tc := range []struct {
		name   string
		header http.Header
		secure bool
	}{
		{"plain http", nil, false},
		{"https through a proxy", http.Header{"X-Forwarded-Proto": {"https"}}, true},
	} {
		resp, body := do(t, client(t), "POST", r.base+"/login", url.Values{"code": {r.issue(time.Minute)}}, tc.header)
		if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
			t.Fatalf("%s: POST /login = %d %v: %s", tc.name, resp.StatusCode, resp.Cookies(), body)
		}
		ck := resp.Cookies()[0]
		if ck.Name != web.SessionCookie || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != tc.secure || ck.MaxAge <= 0 || len(ck.Value) < 40 {
			t.Errorf("%s: cookie %+v: want HttpOnly, SameSite=Lax, Secure=%v, a lasting random value", tc.name, ck, tc.secure)
		}
	}
	// Signed out, the pages ask to sign in.
	if resp, body := do(t, client(t), "GET", r.base+"/", nil, nil); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "/web") {
		t.Fatalf("GET / without session = %d: %s", resp.StatusCode, body)
	}
}

func TestFormsRefuseAMissingOrWrongCSRFToken(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	c := client(t)
	token := r.signIn(c)
	for _, form := range []url.Values{
		{"ticker": {"AAPL"}, "kind": {"above"}, "level": {"200"}},
		{"ticker": {"AAPL"}, "kind": {"above"}, "level": {"200"}, "csrf": {strings.Repeat("0", 64)}},
	} {
		resp, body := do(t, c, "POST", r.base+"/rules", form, nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "did not come from this page") {
			t.Fatalf("POST /rules %v = %d: %s", form, resp.StatusCode, body)
		}
	}
	if resp, _ := do(t, c, "POST", r.base+"/logout", url.Values{}, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without token = %d", resp.StatusCode)
	}
	if n := r.count("alert_rules"); n != 0 {
		t.Fatalf("a refused form stored %d rules", n)
	}
	// With the page's token, sign-out works and ends the session.
	if resp, body := do(t, c, "POST", r.base+"/logout", url.Values{"csrf": {token}}, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "signed out") {
		t.Fatalf("logout = %d: %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, c, "GET", r.base+"/", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET / after sign-out = %d", resp.StatusCode)
	}
	if n := r.count("web_sessions"); n != 0 {
		t.Fatalf("%d sessions after sign-out", n)
	}
}

func TestAddAndDeleteRulesWithErrors(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	c := client(t)
	token := r.signIn(c)
	for _, tc := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"ticker": {"AA PL"}, "kind": {"above"}, "level": {"200"}}, "ticker"},
		{url.Values{"ticker": {"AAPL"}, "kind": {"above"}, "level": {"lots"}}, "level"},
		{url.Values{"ticker": {"AAPL"}, "kind": {"above"}}, "level"},
		{url.Values{"ticker": {"AAPL"}, "kind": {"range"}, "low_value": {"300"}, "high_value": {"200"}}, "high_value"},
		{url.Values{"ticker": {"AAPL"}, "kind": {"sideways"}}, "kind"},
	} {
		tc.form.Set("csrf", token)
		resp, body := do(t, c, "POST", r.base+"/rules", tc.form, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="form-error">`+tc.field+":") {
			t.Errorf("POST /rules %v = %d, want 400 naming %s: %s", tc.form, resp.StatusCode, tc.field, body)
		}
		if !strings.Contains(body, `value="`+tc.form.Get("ticker")+`"`) {
			t.Errorf("the form lost what was typed: %s", body)
		}
	}
	if n := r.count("alert_rules"); n != 0 {
		t.Fatalf("refused forms stored %d rules", n)
	}

	resp, body := do(t, c, "POST", r.base+"/rules", url.Values{"csrf": {token}, "ticker": {"msft"}, "kind": {"below"}, "level": {"350.5"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add = %d: %s", resp.StatusCode, body)
	}
	_, body = do(t, c, "GET", r.base+"/", nil, nil)
	m := regexp.MustCompile(`<td>(\d+)</td><td>MSFT</td><td>below 350.5</td>`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, `src="chart?ticker=MSFT"`) {
		t.Fatalf("the new rule and its chart are not listed: %s", body)
	}
	if resp, _ := do(t, c, "GET", r.base+"/chart?ticker=MSFT", nil, nil); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("chart = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := do(t, c, "GET", r.base+"/chart?ticker=%2F", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("chart of a bad ticker = %d", resp.StatusCode)
	}

	if resp, body := do(t, c, "POST", r.base+"/delete", url.Values{"csrf": {token}, "id": {"999999"}}, nil); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "no such rule") {
		t.Fatalf("delete unknown = %d: %s", resp.StatusCode, body)
	}
	if resp, body := do(t, c, "POST", r.base+"/delete", url.Values{"csrf": {token}, "id": {m[1]}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete = %d: %s", resp.StatusCode, body)
	}
	if n := r.count("alert_rules"); n != 0 {
		t.Fatalf("%d rules after delete", n)
	}
}

// Another site's form cannot sign a visitor in (to the other site's account: login CSRF) nor post
// the signed-in forms: the browser says it is cross-site (Sec-Fetch-Site) and the dashboard refuses.
func TestCrossSiteFormsAreRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	crossSite := http.Header{"Sec-Fetch-Site": {"cross-site"}}
	resp, body := do(t, client(t), "POST", r.base+"/login", url.Values{"code": {r.issue(time.Minute)}}, crossSite)
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 || !strings.Contains(body, "another site") {
		t.Fatalf("cross-site POST /login = %d %v: %s", resp.StatusCode, resp.Cookies(), body)
	}
	if r.count("web_logins") != 1 || r.count("web_sessions") != 0 {
		t.Fatalf("a cross-site sign-in changed the store: %d codes, %d sessions", r.count("web_logins"), r.count("web_sessions"))
	}

	c := client(t)
	token := r.signIn(c)
	resp, body = do(t, c, "POST", r.base+"/rules", url.Values{"csrf": {token}, "ticker": {"AAPL"}, "kind": {"above"}, "level": {"200"}}, crossSite)
	if resp.StatusCode != http.StatusForbidden || r.count("alert_rules") != 0 {
		t.Fatalf("cross-site POST /rules = %d, %d rules: %s", resp.StatusCode, r.count("alert_rules"), body)
	}
	// A browser that sends no Sec-Fetch-Site (plain http to another host than localhost): its Origin.
	oldBrowser := http.Header{"Origin": {"http://evil.example"}, "X-Forwarded-Host": {"dash.example:8080"}}
	resp, body = do(t, c, "POST", r.base+"/rules", url.Values{"csrf": {token}, "ticker": {"AAPL"}, "kind": {"above"}, "level": {"200"}}, oldBrowser)
	if resp.StatusCode != http.StatusForbidden || r.count("alert_rules") != 0 {
		t.Fatalf("POST /rules from another Origin = %d, %d rules: %s", resp.StatusCode, r.count("alert_rules"), body)
	}
	// The dashboard's own pages post same-origin: told by the browser, or by an Origin that is the
	// host the browser asked (behind the gateway, X-Forwarded-Host).
	for i, h := range []http.Header{
		{"Sec-Fetch-Site": {"same-origin"}},
		{"Origin": {"http://dash.example:8080"}, "X-Forwarded-Host": {"dash.example:8080"}},
	} {
		resp, body = do(t, c, "POST", r.base+"/rules", url.Values{"csrf": {token}, "ticker": {"AAPL"}, "kind": {"above"}, "level": {strconv.Itoa(200 + i)}}, h)
		if resp.StatusCode != http.StatusSeeOther || r.count("alert_rules") != i+1 {
			t.Fatalf("same-origin POST /rules %v = %d: %s", h, resp.StatusCode, body)
		}
	}
}
