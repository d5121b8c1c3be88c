package provider_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/auth"
	"github.com/openfaas/faas-provider/logs"
	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/internal/lftest"
	"github.com/stockalert/stockalert/localfaas/provider"
	"github.com/stockalert/stockalert/localfaas/stack"
)

func TestSystemEndpointsRequireBasicAuth(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	wrong := &auth.BasicAuthCredentials{User: provider.AdminUser, Password: "wrong"}
	otherUser := &auth.BasicAuthCredentials{User: "root", Password: lftest.Creds.Password}
	endpoints := []struct{ method, path, body string }{
		{"GET", "/system/functions", ""},
		{"POST", "/system/functions", `{"service":"echo","image":"localhost/echo:latest"}`},
		{"PUT", "/system/functions", `{"service":"echo","image":"localhost/echo:latest"}`},
		{"DELETE", "/system/functions", `{"functionName":"echo"}`},
		{"GET", "/system/function/echo", ""},
		{"POST", "/system/scale-function/echo", `{"serviceName":"echo","replicas":1}`},
		{"GET", "/system/secrets", ""},
		{"POST", "/system/secrets", `{"name":"x","value":"y"}`},
		{"PUT", "/system/secrets", `{"name":"x","value":"y"}`},
		{"DELETE", "/system/secrets", `{"name":"x"}`},
		{"GET", "/system/logs?name=echo", ""},
		{"GET", "/system/info", ""},
		{"GET", "/system/namespaces", ""},
	}
	for _, e := range endpoints {
		for _, creds := range []*auth.BasicAuthCredentials{nil, wrong, otherUser} {
			var body any
			if e.body != "" {
				body = e.body
			}
			r := lftest.Call(t, e.method, gw.URL+e.path, creds, body)
			lftest.ExpectStatus(t, r, http.StatusUnauthorized, e.method+" "+e.path)
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", e.method, e.path)
			}
		}
	}
	// Nothing was changed by the refused calls.
	if fns := gw.Functions(); len(fns) != 0 {
		t.Fatalf("refused calls deployed %v", fns)
	}
	// Open endpoints.
	lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/healthz", nil, nil), http.StatusOK, "healthz")
	lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/function/echo", nil, nil), http.StatusNotFound, "invoke undeployed")
	// And with the right credentials.
	lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/system/functions", lftest.Creds, nil), http.StatusOK, "list")
	lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/system/namespaces", lftest.Creds, nil), http.StatusOK, "namespaces")
}

func TestDeployListDescribeUpdateDelete(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, map[string]string{"GREETING": "hi"}, nil)
	deploy := types.FunctionDeployment{Service: "echo", Image: "localhost/echo:latest", EnvVars: map[string]string{"EXTRA": "from-request"}}

	// faas-cli deploy: PUT first, POST after a 404.
	lftest.ExpectStatus(t, lftest.Call(t, "PUT", gw.URL+"/system/functions", lftest.Creds, deploy), http.StatusNotFound, "update before deploy")
	lftest.ExpectStatus(t, lftest.Call(t, "POST", gw.URL+"/system/functions", lftest.Creds, deploy), http.StatusAccepted, "deploy")
	lftest.ExpectStatus(t, lftest.Call(t, "POST", gw.URL+"/system/functions", lftest.Creds, deploy), http.StatusConflict, "deploy again")
	gw.WaitReady(t)

	list := lftest.Decode[[]types.FunctionStatus](t, lftest.Call(t, "GET", gw.URL+"/system/functions?namespace=openfaas-fn", lftest.Creds, nil))
	if len(list) != 1 || list[0].Name != "echo" || list[0].Replicas != 1 || list[0].AvailableReplicas != 1 || list[0].Namespace != stack.Namespace {
		t.Fatalf("list = %+v", list)
	}
	if list[0].EnvVars["GREETING"] != "hi" || list[0].EnvVars["EXTRA"] != "from-request" {
		t.Fatalf("env = %v, want stack.yml's substituted GREETING and the request's EXTRA", list[0].EnvVars)
	}
	lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/system/functions?namespace=other", lftest.Creds, nil), http.StatusBadRequest, "list other namespace")

	// The process sees stack.yml's environment, the request's, the infrastructure's (which wins) and
	// localfaas's own.
	for name, want := range map[string]string{
		"GREETING": "hi", "EXTRA": "from-request", "INFRA": "infra-value", "SHARED": "from-localfaas",
		"secret_mount_path": gw.SecretsDir,
	} {
		r := lftest.Call(t, "GET", gw.URL+"/function/echo/env?name="+name, nil, nil)
		if r.Body != want {
			t.Errorf("function env %s = %q, want %q", name, r.Body, want)
		}
	}

	st := lftest.Decode[types.FunctionStatus](t, lftest.Call(t, "GET", gw.URL+"/system/function/echo", lftest.Creds, nil))
	if st.Name != "echo" || st.Image != "localhost/echo:latest" || st.AvailableReplicas != 1 || len(st.Secrets) != 1 || st.Secrets[0] != "api-key" {
		t.Fatalf("describe = %+v", st)
	}
	invoked := st.InvocationCount
	lftest.ExpectStatus(t, lftest.Call(t, "POST", gw.URL+"/function/echo", nil, "x"), http.StatusOK, "invoke")
	st = lftest.Decode[types.FunctionStatus](t, lftest.Call(t, "GET", gw.URL+"/system/function/echo", lftest.Creds, nil))
	if st.InvocationCount != invoked+1 {
		t.Fatalf("invocationCount %v after one more invocation, was %v", st.InvocationCount, invoked)
	}
	lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/system/function/nope", lftest.Creds, nil), http.StatusNotFound, "describe unknown")

	// Update: new env, new processes; the old ones serve until the new ones are ready.
	before := lftest.Decode[map[string]any](t, lftest.Call(t, "GET", gw.URL+"/function/echo", nil, nil))["pid"]
	deploy.EnvVars = map[string]string{"EXTRA": "updated"}
	lftest.ExpectStatus(t, lftest.Call(t, "PUT", gw.URL+"/system/functions", lftest.Creds, deploy), http.StatusOK, "update")
	lftest.Eventually(t, 30*time.Second, "the updated process", func() bool {
		return lftest.Call(t, "GET", gw.URL+"/function/echo/env?name=EXTRA", nil, nil).Body == "updated"
	})
	after := lftest.Decode[map[string]any](t, lftest.Call(t, "GET", gw.URL+"/function/echo", nil, nil))["pid"]
	if before == after {
		t.Fatalf("update kept process %v", before)
	}

	// Delete.
	lftest.ExpectStatus(t, lftest.Call(t, "DELETE", gw.URL+"/system/functions", lftest.Creds, types.DeleteFunctionRequest{FunctionName: "echo"}), http.StatusOK, "delete")
	lftest.ExpectStatus(t, lftest.Call(t, "DELETE", gw.URL+"/system/functions", lftest.Creds, types.DeleteFunctionRequest{FunctionName: "echo"}), http.StatusNotFound, "delete again")
	lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/system/function/echo", lftest.Creds, nil), http.StatusNotFound, "describe deleted")
	lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/function/echo", nil, nil), http.StatusNotFound, "invoke deleted")
	if fns := gw.Functions(); len(fns) != 0 {
		t.Fatalf("functions after delete: %+v", fns)
	}

	// Deployed again: its logs are kept, and its new process has a new instance name.
	lftest.ExpectStatus(t, lftest.Call(t, "POST", gw.URL+"/system/functions", lftest.Creds, deploy), http.StatusAccepted, "deploy after delete")
	gw.WaitReady(t)
	byInstance := map[string]bool{}
	for _, m := range decodeLines(t, lftest.Call(t, "GET", gw.URL+"/system/logs?name=echo", lftest.Creds, nil).Body) {
		byInstance[m.Instance] = true
	}
	if !byInstance["echo-1"] || !byInstance["echo-2"] || !byInstance["echo-3"] {
		t.Fatalf("instances in the logs: %v, want echo-1 (first deploy), echo-2 (update), echo-3 (deployed again)", byInstance)
	}
}

func TestDeployRefusesWhatIsNotInTheStack(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	cases := []struct {
		req  any
		want string
	}{
		{types.FunctionDeployment{Service: "echo", Image: "ghcr.io/someone/other:1.0"}, `image "ghcr.io/someone/other:1.0" is not the image of function echo`},
		{types.FunctionDeployment{Service: "echo", Image: "localhost/echo:v2"}, "is not the image of function echo"},
		{types.FunctionDeployment{Service: "nodeinfo", Image: "functions/nodeinfo:latest"}, `function "nodeinfo" is not in`},
		{types.FunctionDeployment{Image: "localhost/echo:latest"}, "service (the function name) is required"},
		{types.FunctionDeployment{Service: "echo", Image: "localhost/echo:latest", Namespace: "dev"}, `namespace "dev" does not exist`},
		{types.FunctionDeployment{Service: "echo", Image: "localhost/echo:latest", Secrets: []string{"../etc/passwd"}}, "secret name"},
		{types.FunctionDeployment{Service: "echo", Image: "localhost/echo:latest", Labels: &map[string]string{stack.LabelScaleMin: "many"}}, stack.LabelScaleMin},
		{types.FunctionDeployment{Service: "echo", Image: "localhost/echo:latest", Annotations: &map[string]string{"topic": "cron-function", "schedule": "every day"}}, "not a cron schedule"},
		{`{"service": "echo", "image": `, "not valid JSON"},
	}
	for _, c := range cases {
		for _, method := range []string{"POST", "PUT"} {
			r := lftest.Call(t, method, gw.URL+"/system/functions", lftest.Creds, c.req)
			lftest.ExpectStatus(t, r, http.StatusBadRequest, method+" "+c.want)
			if !strings.Contains(r.Body, c.want) {
				t.Errorf("%s: body %q does not say %q", method, r.Body, c.want)
			}
		}
	}
	if fns := gw.Functions(); len(fns) != 0 {
		t.Fatalf("refused deploys deployed %+v", fns)
	}
	// docker.io and :latest are implied, as in Docker.
	if err := gw.Deploy(t.Context(), types.FunctionDeployment{Service: "echo", Image: "docker.io/localhost/echo"}); err != nil {
		t.Fatalf("deploy with docker.io/ prefix and no tag: %v", err)
	}
}

func TestScaleToZeroAndBack(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	gw.DeployAndWait(t, "echo")

	lftest.ExpectStatus(t, lftest.Call(t, "POST", gw.URL+"/system/scale-function/nope", lftest.Creds, types.ScaleServiceRequest{ServiceName: "nope", Replicas: 1}), http.StatusNotFound, "scale unknown")
	lftest.ExpectStatus(t, lftest.Call(t, "POST", gw.URL+"/system/scale-function/echo", lftest.Creds, types.ScaleServiceRequest{ServiceName: "echo", Replicas: 11}), http.StatusBadRequest, "scale past the maximum")
	lftest.ExpectStatus(t, lftest.Call(t, "POST", gw.URL+"/system/scale-function/echo", lftest.Creds, types.ScaleServiceRequest{ServiceName: "other", Replicas: 1}), http.StatusBadRequest, "scale with a different serviceName")

	lftest.ExpectStatus(t, lftest.Call(t, "POST", gw.URL+"/system/scale-function/echo", lftest.Creds, types.ScaleServiceRequest{ServiceName: "echo", Replicas: 0}), http.StatusAccepted, "scale to 0")
	st := lftest.Decode[types.FunctionStatus](t, lftest.Call(t, "GET", gw.URL+"/system/function/echo", lftest.Creds, nil))
	if st.Replicas != 0 || st.AvailableReplicas != 0 {
		t.Fatalf("after scale to 0: replicas %d, available %d", st.Replicas, st.AvailableReplicas)
	}
	r := lftest.Call(t, "GET", gw.URL+"/function/echo", nil, nil)
	lftest.ExpectStatus(t, r, http.StatusServiceUnavailable, "invoke at zero replicas")
	if !strings.Contains(r.Body, "scaled to zero") {
		t.Fatalf("503 body %q does not say why", r.Body)
	}

	lftest.ExpectStatus(t, lftest.Call(t, "POST", gw.URL+"/system/scale-function/echo", lftest.Creds, types.ScaleServiceRequest{ServiceName: "echo", Replicas: 2}), http.StatusAccepted, "scale to 2")
	gw.WaitReady(t)
	st = lftest.Decode[types.FunctionStatus](t, lftest.Call(t, "GET", gw.URL+"/system/function/echo", lftest.Creds, nil))
	if st.Replicas != 2 || st.AvailableReplicas != 2 {
		t.Fatalf("after scale to 2: replicas %d, available %d", st.Replicas, st.AvailableReplicas)
	}
	// Both processes get traffic.
	pids := map[float64]int{}
	for range 10 {
		pid := lftest.Decode[map[string]any](t, lftest.Call(t, "GET", gw.URL+"/function/echo", nil, nil))["pid"].(float64)
		pids[pid]++
	}
	if len(pids) != 2 {
		t.Fatalf("10 invocations reached processes %v, want 2 processes", pids)
	}
}

func TestProxyPassesPathQueryHeadersAndBody(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	gw.DeployAndWait(t, "echo")
	for _, path := range []string{"/function/echo", "/function/echo.openfaas-fn"} {
		req, _ := http.NewRequestWithContext(t.Context(), "PATCH", gw.URL+path+"/users/42/alerts?ticker=AAPL&x=1%202", strings.NewReader(`{"high":200}`))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "tok")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var echo struct {
			Method, Path, Query, Body string
			Headers                   http.Header
		}
		if err := json.NewDecoder(res.Body).Decode(&echo); err != nil {
			t.Fatal(err)
		}
		if err := res.Body.Close(); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 || echo.Method != "PATCH" || echo.Path != "/users/42/alerts" || echo.Query != "ticker=AAPL&x=1%202" ||
			echo.Body != `{"high":200}` || echo.Headers.Get("X-Telegram-Bot-Api-Secret-Token") != "tok" {
			t.Fatalf("%s: status %d, function saw %+v", path, res.StatusCode, echo)
		}
	}
	// Root path without a trailing slash.
	echo := lftest.Decode[map[string]any](t, lftest.Call(t, "GET", gw.URL+"/function/echo?a=b", nil, nil))
	if echo["path"] != "/" || echo["query"] != "a=b" {
		t.Fatalf("root invocation: %v", echo)
	}
	r := lftest.Call(t, "GET", gw.URL+"/function/echo.other-ns", nil, nil)
	lftest.ExpectStatus(t, r, http.StatusNotFound, "other namespace")
	r = lftest.Call(t, "GET", gw.URL+"/function/nope", nil, nil)
	lftest.ExpectStatus(t, r, http.StatusNotFound, "unknown function")
	if !strings.Contains(r.Body, "nope") {
		t.Fatalf("404 body %q does not name the function", r.Body)
	}
}

// The gateway adds the caller it saw to an X-Forwarded-For the client sent, so the function's last entry
// is never one the client chose (faas-provider's proxy alone would pass the client's header on as is).
func TestProxyAppendsTheCallerToXForwardedFor(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	gw.DeployAndWait(t, "echo")
	seen := func(xff string) string {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", gw.URL+"/function/echo", nil)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var echo struct{ Headers http.Header }
		if err := json.NewDecoder(res.Body).Decode(&echo); err != nil {
			t.Fatal(err)
		}
		return strings.Join(echo.Headers.Values("X-Forwarded-For"), ", ")
	}
	plain := seen("")
	if !strings.HasPrefix(plain, "127.0.0.1:") || strings.Contains(plain, ",") {
		t.Fatalf("without a header the function saw X-Forwarded-For %q, want the caller 127.0.0.1:port", plain)
	}
	spoofed := seen("203.0.113.9")
	if !strings.HasPrefix(spoofed, "203.0.113.9, 127.0.0.1:") {
		t.Fatalf("with a client's header the function saw %q, want it followed by the caller the gateway saw", spoofed)
	}
}

func TestSecretsCRUD(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	url := gw.URL + "/system/secrets"
	list := func() []types.Secret {
		return lftest.Decode[[]types.Secret](t, lftest.Call(t, "GET", url, lftest.Creds, nil))
	}
	if l := list(); len(l) != 0 {
		t.Fatalf("fresh list = %+v", l)
	}
	lftest.ExpectStatus(t, lftest.Call(t, "POST", url, lftest.Creds, types.Secret{Name: "api-key", Value: "v1"}), http.StatusCreated, "create")
	lftest.ExpectStatus(t, lftest.Call(t, "POST", url, lftest.Creds, types.Secret{Name: "api-key", Value: "other"}), http.StatusConflict, "create duplicate")
	lftest.ExpectStatus(t, lftest.Call(t, "POST", url, lftest.Creds, types.Secret{Name: "raw", RawValue: []byte{0, 1, 2}}), http.StatusCreated, "create raw")
	path := filepath.Join(gw.SecretsDir, "api-key")
	if b, _ := os.ReadFile(path); string(b) != "v1" {
		t.Fatalf("secret file holds %q after a refused duplicate, want v1", b)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v (%v), want 0600", info.Mode(), err)
	}
	l := list()
	if len(l) != 2 || l[0].Name != "api-key" || l[1].Name != "raw" || l[0].Value != "" {
		t.Fatalf("list = %+v", l)
	}

	// The function reads it from secret_mount_path.
	gw.DeployAndWait(t, "echo")
	if r := lftest.Call(t, "GET", gw.URL+"/function/echo/secret?name=api-key", nil, nil); r.Body != "v1" {
		t.Fatalf("function read %q", r.Body)
	}
	lftest.ExpectStatus(t, lftest.Call(t, "PUT", url, lftest.Creds, types.Secret{Name: "api-key", Value: "v2"}), http.StatusOK, "update")
	if r := lftest.Call(t, "GET", gw.URL+"/function/echo/secret?name=api-key", nil, nil); r.Body != "v2" {
		t.Fatalf("function read %q after update", r.Body)
	}
	lftest.ExpectStatus(t, lftest.Call(t, "PUT", url, lftest.Creds, types.Secret{Name: "missing", Value: "v"}), http.StatusNotFound, "update missing")
	lftest.ExpectStatus(t, lftest.Call(t, "DELETE", url, lftest.Creds, types.Secret{Name: "api-key"}), http.StatusOK, "delete")
	lftest.ExpectStatus(t, lftest.Call(t, "DELETE", url, lftest.Creds, types.Secret{Name: "api-key"}), http.StatusNotFound, "delete again")
	for _, bad := range []string{"../escape", ".hidden", "a/b", ""} {
		lftest.ExpectStatus(t, lftest.Call(t, "POST", url, lftest.Creds, types.Secret{Name: bad, Value: "v"}), http.StatusBadRequest, "create "+bad)
	}
	lftest.ExpectStatus(t, lftest.Call(t, "POST", url, lftest.Creds, types.Secret{Name: "ok", Value: "v", Namespace: "dev"}), http.StatusBadRequest, "other namespace")
	if l := list(); len(l) != 1 || l[0].Name != "raw" {
		t.Fatalf("list at the end = %+v", l)
	}
	// Nothing escaped the folder.
	entries, _ := os.ReadDir(filepath.Dir(gw.SecretsDir))
	for _, e := range entries {
		if e.Name() == "escape" {
			t.Fatal("a secret was written outside the secrets folder")
		}
	}
}

func TestLogs(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/system/logs?name=echo", lftest.Creds, nil), http.StatusNotFound, "logs before deploy")
	lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/system/logs", lftest.Creds, nil), http.StatusBadRequest, "logs without a name")
	gw.DeployAndWait(t, "echo")
	for i := range 5 {
		lftest.Call(t, "GET", gw.URL+"/function/echo/req"+string(rune('0'+i)), nil, nil)
	}
	lftest.Eventually(t, 10*time.Second, "the fifth request in the logs", func() bool {
		return strings.Contains(lftest.Call(t, "GET", gw.URL+"/system/logs?name=echo", lftest.Creds, nil).Body, "GET /req4")
	})
	r := lftest.Call(t, "GET", gw.URL+"/system/logs?name=echo", lftest.Creds, nil)
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("content type %q", ct)
	}
	var all []logs.Message
	sc := bufio.NewScanner(strings.NewReader(r.Body))
	for sc.Scan() {
		var m logs.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if m.Name != "echo" || m.Namespace != stack.Namespace || m.Instance != "echo-1" || m.Timestamp.IsZero() {
			t.Fatalf("message %+v", m)
		}
		all = append(all, m)
	}
	if len(all) < 7 || !strings.Contains(all[0].Text, "echo-1 started (pid") {
		t.Fatalf("logs = %+v", all)
	}

	// tail
	tail := decodeLines(t, lftest.Call(t, "GET", gw.URL+"/system/logs?name=echo&tail=2", lftest.Creds, nil).Body)
	if len(tail) != 2 || tail[1].Text != all[len(all)-1].Text {
		t.Fatalf("tail=2 gave %+v", tail)
	}
	// since: only lines at or after the time given.
	since := all[len(all)-1].Timestamp.Add(time.Second).Format(time.RFC3339)
	if got := decodeLines(t, lftest.Call(t, "GET", gw.URL+"/system/logs?name=echo&since="+since, lftest.Creds, nil).Body); len(got) != 0 {
		t.Fatalf("since a time after the last line gave %+v", got)
	}
	// instance filter
	if got := decodeLines(t, lftest.Call(t, "GET", gw.URL+"/system/logs?name=echo&instance=echo-9", lftest.Creds, nil).Body); len(got) != 0 {
		t.Fatalf("another instance's logs: %+v", got)
	}

	// follow: the stream stays open and carries new lines.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", gw.URL+"/system/logs?name=echo&tail=1&follow=true", http.NoBody)
	req.SetBasicAuth(lftest.Creds.User, lftest.Creds.Password)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }() // the stream is cut at the end of the test
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	first := <-lines
	if !strings.Contains(first, "GET /req4") {
		t.Fatalf("first followed line %q, want the last stored one", first)
	}
	lftest.Call(t, "GET", gw.URL+"/function/echo/followed", nil, nil)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l := <-lines:
			if strings.Contains(l, "GET /followed") {
				return
			}
		case <-timeout:
			t.Fatal("the followed stream did not carry the new line")
		}
	}
}

func decodeLines(t *testing.T, body string) []logs.Message {
	t.Helper()
	var out []logs.Message
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if l == "" {
			continue
		}
		var m logs.Message
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestInfoNamespacesHealth(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	// As a gateway (the default): the OpenFaaS gateway's GatewayInfo, which faas-cli version reads.
	r := lftest.Call(t, "GET", gw.URL+"/system/info", lftest.Creds, nil)
	info := lftest.Decode[struct {
		Provider *types.ProviderInfo `json:"provider"`
		Version  *types.VersionInfo  `json:"version"`
		Arch     string              `json:"arch"`
	}](t, r)
	if info.Provider == nil || info.Provider.Name != "localfaas" || info.Provider.Orchestration != "processes" ||
		info.Provider.Version == nil || info.Version == nil || info.Arch == "" {
		t.Fatalf("info = %+v", info)
	}
	if shape := lftest.Decode[map[string]json.RawMessage](t, r); len(shape) != 3 || !strings.HasPrefix(string(shape["provider"]), "{") {
		t.Fatalf("gateway info %s: want exactly provider (an object), version, arch", r.Body)
	}
	ns := lftest.Decode[[]string](t, lftest.Call(t, "GET", gw.URL+"/system/namespaces", lftest.Creds, nil))
	if len(ns) != 1 || ns[0] != "openfaas-fn" {
		t.Fatalf("namespaces = %v", ns)
	}
	r = lftest.Call(t, "GET", gw.URL+"/healthz", nil, nil)
	lftest.ExpectStatus(t, r, http.StatusOK, "healthz")
}

// TestInfoAsAProvider: behind a real OpenFaaS gateway (LOCALFAAS_ROLE=provider), /system/info is
// faas-provider's ProviderInfo, the shape the gateway reads; still behind basic auth.
func TestInfoAsAProvider(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGatewayWith(t, lftest.Stack, nil, nil, provider.Options{Creds: lftest.Creds, Role: provider.RoleProvider})
	lftest.ExpectStatus(t, lftest.Call(t, "GET", gw.URL+"/system/info", nil, nil), http.StatusUnauthorized, "info without credentials")
	r := lftest.Call(t, "GET", gw.URL+"/system/info", lftest.Creds, nil)
	lftest.ExpectStatus(t, r, http.StatusOK, "info")
	info := lftest.Decode[types.ProviderInfo](t, r)
	if info.Name != "localfaas" || info.Orchestration != "processes" || info.Version == nil || info.Version.Release == "" || info.Version.SHA == "" {
		t.Fatalf("provider info = %+v (%s)", info, r.Body)
	}
	shape := lftest.Decode[map[string]json.RawMessage](t, r)
	if len(shape) != 3 || string(shape["provider"]) != `"localfaas"` || string(shape["orchestration"]) != `"processes"` {
		t.Fatalf("provider info %s: want exactly {\"provider\":\"localfaas\",\"orchestration\":\"processes\",\"version\":{…}}", r.Body)
	}
	if _, err := provider.ParseRole("both"); err == nil {
		t.Fatal("ParseRole accepted an unknown role")
	}
}

// bodyLimitStack is the test stack's echo with a body limit its process enforces too (answering 413 and
// closing as soon as it sees the body is over).
const bodyLimitStack = `
version: 1.0
provider:
  name: openfaas
functions:
  limited:
    lang: go
    handler: ./fn
    image: localhost/limited:latest
    environment:
      max_body_bytes: "${LIMIT}"
  unlimited:
    lang: go
    handler: ./fn
    image: localhost/unlimited:latest
`

// chunked hides a reader's length, so that the client sends the body chunked, without Content-Length.
type chunked struct{ io.Reader }

// TestProxyAnswersABodyOverTheLimit413: a body over the function's max_body_bytes (or the gateway's
// default for a function that sets none) is a 413 with the runtime's JSON every time, never a 500
// "Can't reach service" — whether Content-Length declares it or it arrives chunked while the function
// answers 413 and closes mid-upload; a body at the limit passes.
func TestProxyAnswersABodyOverTheLimit413(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	gw := lftest.NewGatewayWith(t, bodyLimitStack, map[string]string{"LIMIT": strconv.Itoa(limit)}, nil,
		provider.Options{Creds: lftest.Creds, DefaultMaxBodyBytes: 4096})
	gw.DeployAndWait(t, "limited")
	gw.DeployAndWait(t, "unlimited")
	invocations := func(name string) float64 {
		st, err := gw.Function(name)
		if err != nil {
			t.Fatal(err)
		}
		return st.InvocationCount
	}
	post := func(name string, body io.Reader) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, gw.URL+"/function/"+name+"/users", body)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", name, err)
		}
		out, err := io.ReadAll(res.Body)
		if cerr := res.Body.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, string(out)
	}
	want413 := func(n int64) string {
		return `{"error":"request body too large: larger than ` + strconv.FormatInt(n, 10) + ` bytes","field":"body"}` + "\n"
	}
	big := bytes.Repeat([]byte("x"), 16<<20) // the 12–20 MiB bodies that raced

	// Declared by Content-Length: answered by the gateway, the function is not called.
	before := invocations("limited")
	for i := range 5 {
		status, body := post("limited", bytes.NewReader(big))
		if status != http.StatusRequestEntityTooLarge || body != want413(limit) {
			t.Fatalf("try %d, 16 MiB with Content-Length: %d %q, want 413 %q", i, status, body, want413(limit))
		}
	}
	if got := invocations("limited"); got != before {
		t.Fatalf("the function was invoked %v times for bodies the gateway refused", got-before)
	}
	// Chunked: the function answers 413 and closes while the body is still coming; the client gets the
	// 413 every time.
	for i := range 5 {
		status, body := post("limited", chunked{bytes.NewReader(big)})
		if status != http.StatusRequestEntityTooLarge || body != want413(limit) {
			t.Fatalf("try %d, 16 MiB chunked: %d %q, want 413 %q", i, status, body, want413(limit))
		}
	}
	// At the limit, both ways: the function gets it all.
	for _, body := range []io.Reader{bytes.NewReader(big[:limit]), chunked{bytes.NewReader(big[:limit])}} {
		status, out := post("limited", body)
		echo := map[string]any{}
		if status != http.StatusOK || json.Unmarshal([]byte(out), &echo) != nil || len(echo["body"].(string)) != limit {
			t.Fatalf("a body at the limit: %d %.200s", status, out)
		}
	}
	// A function whose environment sets no limit has the gateway's default.
	if status, body := post("unlimited", bytes.NewReader(big[:4097])); status != http.StatusRequestEntityTooLarge || body != want413(4096) {
		t.Fatalf("over the default limit: %d %q", status, body)
	}
	if status, body := post("unlimited", chunked{bytes.NewReader(big[:4097])}); status != http.StatusRequestEntityTooLarge || body != want413(4096) {
		t.Fatalf("over the default limit, chunked: %d %q", status, body)
	}
	if status, _ := post("unlimited", bytes.NewReader(big[:4096])); status != http.StatusOK {
		t.Fatalf("at the default limit: %d", status)
	}
}
