package supervisor_test

import (
	"crypto/sha512"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/internal/lftest"
	"github.com/stockalert/stockalert/localfaas/supervisor"
)

// deployProcess deploys req through the API and waits for it to be ready.
func deployProcess(t *testing.T, gw *lftest.Gateway, req types.FunctionDeployment) {
	t.Helper()
	lftest.ExpectStatus(t, lftest.Call(t, http.MethodPost, gw.URL+"/system/functions", lftest.Creds, req), http.StatusAccepted, "deploy "+req.Service)
	gw.WaitReady(t)
}

func TestProcessFunctionForksItsFprocessWithOnlyItsOwnEnvironment(t *testing.T) {
	t.Setenv("LOCALFAAS_LEAK_CHECK", "must-not-leak")
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	deployProcess(t, gw, types.FunctionDeployment{
		Service: "env-fn", Image: "ghcr.io/openfaas/alpine:latest", EnvProcess: "env",
		EnvVars: map[string]string{"greeting": "hi"},
	})
	r := lftest.Call(t, http.MethodPatch, gw.URL+"/function/env-fn/sub/path?q=1", nil, "abc")
	lftest.ExpectStatus(t, r, http.StatusOK, "invoke env")
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.Body), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vars[k] = v
	}
	for k, v := range map[string]string{"greeting": "hi", "Http_Method": "PATCH", "Http_Query": "q=1", "PATH": os.Getenv("PATH")} {
		if vars[k] != v {
			t.Errorf("%s = %q, want %q", k, vars[k], v)
		}
	}
	if !strings.HasSuffix(vars["Http_Path"], "/sub/path") {
		t.Errorf("Http_Path = %q", vars["Http_Path"])
	}
	for k := range vars {
		if k != "PATH" && k != "HOME" && k != "greeting" && !strings.HasPrefix(k, "Http_") {
			t.Errorf("localfaas's or the stack's variable %s reached the process", k)
		}
	}
	logs := lftest.Call(t, http.MethodGet, gw.URL+"/system/logs?name=env-fn", lftest.Creds, nil).Body
	for _, want := range []string{`"text":"Forking fprocess."`, `"text":"Wrote ` + strconv.Itoa(len(r.Body)) + ` Bytes - Duration: `} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}

func TestProcessFunctionSettingsRoundTripExactly(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	// "echo" is a stack function: with another image and an fprocess it is a process function, and
	// nothing of the stack's settings (environment, secrets) is merged in.
	req := types.FunctionDeployment{
		Service: "echo", Image: "functions/alpine:latest", EnvProcess: "sha512sum",
		Labels:      &map[string]string{"com.openfaas.scale.min": "2"},
		Annotations: &map[string]string{},
		Limits:      &types.FunctionResources{Memory: "5Mi"},
	}
	deployProcess(t, gw, req)
	st := lftest.Decode[types.FunctionStatus](t, lftest.Call(t, http.MethodGet, gw.URL+"/system/function/echo", lftest.Creds, nil))
	wantLabels := map[string]string{"com.openfaas.scale.min": "2", supervisor.LabelFunction: "echo"}
	if st.Image != req.Image || st.EnvProcess != req.EnvProcess || st.EnvVars != nil || st.Secrets != nil ||
		st.Annotations == nil || len(*st.Annotations) != 0 || st.Labels == nil || !reflect.DeepEqual(*st.Labels, wantLabels) ||
		!reflect.DeepEqual(st.Limits, req.Limits) || st.Requests != nil || st.Replicas != 2 {
		t.Errorf("status %+v", st)
	}
	want := fmt.Sprintf("%x  -\n", sha512.Sum512([]byte("x")))
	if r := lftest.Call(t, http.MethodPost, gw.URL+"/function/echo", nil, "x"); r.Status != http.StatusOK || r.Body != want {
		t.Errorf("sha512sum of x: %d %q", r.Status, r.Body)
	}

	// The stack function deployed from the stack: labelled too, in the list as in its status.
	gw.DeployAndWait(t, "ticker")
	for _, f := range lftest.Decode[[]types.FunctionStatus](t, lftest.Call(t, http.MethodGet, gw.URL+"/system/functions", lftest.Creds, nil)) {
		if f.Labels == nil || (*f.Labels)[supervisor.LabelFunction] != f.Name {
			t.Errorf("%s: labels %v", f.Name, f.Labels)
		}
	}

	// An update replaces the settings as sent.
	req.EnvProcess, req.Labels, req.Annotations, req.Limits = "cat", nil, nil, nil
	req.EnvVars = map[string]string{"a": "b"}
	lftest.ExpectStatus(t, lftest.Call(t, http.MethodPut, gw.URL+"/system/functions", lftest.Creds, req), http.StatusOK, "update")
	lftest.Eventually(t, 30*time.Second, "the update to serve", func() bool {
		return lftest.Call(t, http.MethodPost, gw.URL+"/function/echo", nil, "same").Body == "same"
	})
	st, err := gw.Function("echo")
	if err != nil {
		t.Fatal(err)
	}
	if st.EnvProcess != "cat" || !reflect.DeepEqual(st.EnvVars, req.EnvVars) || st.Annotations != nil || st.Limits != nil ||
		!reflect.DeepEqual(*st.Labels, map[string]string{supervisor.LabelFunction: "echo"}) {
		t.Errorf("after update: %+v", st)
	}
}

func TestProcessFunctionDeployIsRefusedClearlyOrWithoutAuth(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	req := types.FunctionDeployment{Service: "redirector", Image: "theaxer/redirector:latest", EnvProcess: "./handler"}
	r := lftest.Call(t, http.MethodPost, gw.URL+"/system/functions", lftest.Creds, req)
	lftest.ExpectStatus(t, r, http.StatusBadRequest, "deploy an fprocess that is not on this machine")
	if !strings.Contains(r.Body, `envProcess "./handler"`) || !strings.Contains(r.Body, "executable of this machine") {
		t.Errorf("400 body %q", r.Body)
	}
	req.EnvProcess = "env"
	// Names OpenFaaS refuses (not a DNS-1123 label): a path, a traversal, a line break for the logs.
	for _, name := range []string{"../../etc", "a/b", "Bad-Name", "x\nlevel=ERROR msg=forged", "-x", strings.Repeat("a", 64)} {
		bad := req
		bad.Service = name
		r := lftest.Call(t, http.MethodPost, gw.URL+"/system/functions", lftest.Creds, bad)
		lftest.ExpectStatus(t, r, http.StatusBadRequest, "deploy a process function named "+strconv.Quote(name))
		if !strings.Contains(r.Body, "function name") {
			t.Errorf("400 body for %q: %q", name, r.Body)
		}
	}
	lftest.ExpectStatus(t, lftest.Call(t, http.MethodPost, gw.URL+"/system/functions", nil, req), http.StatusUnauthorized, "deploy without credentials")
	if _, err := gw.Function("redirector"); err == nil {
		t.Error("the refused function is deployed")
	}
}

func TestProcessFunctionReadsItsSecretUpdatedInPlace(t *testing.T) {
	t.Parallel()
	gw := lftest.NewGateway(t, lftest.Stack, nil, nil)
	lftest.ExpectStatus(t, lftest.Call(t, http.MethodPost, gw.URL+"/system/secrets", lftest.Creds, types.Secret{Name: "s1", Value: "first"}), http.StatusCreated, "create secret")
	deployProcess(t, gw, types.FunctionDeployment{
		Service: "secret-fn", Image: "functions/alpine:latest", EnvProcess: "cat " + filepath.Join(gw.SecretsDir, "s1"), Secrets: []string{"s1"},
	})
	if r := lftest.Call(t, http.MethodGet, gw.URL+"/function/secret-fn", nil, nil); r.Body != "first" {
		t.Fatalf("secret read %d %q", r.Status, r.Body)
	}
	lftest.ExpectStatus(t, lftest.Call(t, http.MethodPut, gw.URL+"/system/secrets", lftest.Creds, types.Secret{Name: "s1", Value: "second"}), http.StatusOK, "update secret")
	if r := lftest.Call(t, http.MethodGet, gw.URL+"/function/secret-fn", nil, nil); r.Body != "second" {
		t.Fatalf("secret read after update %d %q", r.Status, r.Body)
	}
}
