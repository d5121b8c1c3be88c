package deploy_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// fakeFaasCLI is a stand-in for faas-cli's secret commands: create stores its standard input in
// $FAKE_SECRETS/<name> and logs its arguments to $FAKE_SECRETS.log; list prints the stored names as
// faas-cli does. $FAKE_REFUSE names a secret the "gateway" refuses: faas-cli then prints the error
// and still exits 0, as the real one does.
const fakeFaasCLI = `#!/bin/sh
set -eu
[ "$1" = secret ] || exit 3
case $2 in
create)
	echo "$*" >>"$FAKE_SECRETS.log"
	if [ "$3" = "${FAKE_REFUSE:-}" ]; then echo "server returned unexpected status code: 500"; exit 0; fi
	cat >"$FAKE_SECRETS/$3"
	echo "Creating secret: $3."
	;;
list)
	printf '\nNAME\n'
	ls "$FAKE_SECRETS"
	printf '\n'
	;;
*) exit 3 ;;
esac
`

type scriptRun struct {
	out  string
	err  error
	dir  string // the fake's secret store
	args string // the fake's argument log
}

func runSecrets(t *testing.T, secretsDir string, env map[string]string) scriptRun {
	t.Helper()
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "faas-cli"), []byte(fakeFaasCLI), 0o755); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(t.TempDir(), "store")
	if err := os.Mkdir(store, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "secrets.sh")
	cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "FAKE_SECRETS=" + store, "SECRETS_DIR=" + secretsDir}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	log, _ := os.ReadFile(store + ".log")
	return scriptRun{out: string(out), err: err, dir: store, args: string(log)}
}

func storedSecrets(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[e.Name()] = readFile(t, filepath.Join(dir, e.Name()))
	}
	return got
}

func TestMakeSecretsCreatesEveryStackSecretFromTheEnvironment(t *testing.T) {
	keep := t.TempDir()
	dsn := "stockalert:pa55-word@tcp(mysql:3306)/stockalert"
	token := "123456:ABC-secret-token"
	r := runSecrets(t, keep, map[string]string{"MYSQL_DSN": dsn, "TELEGRAM_BOT_TOKEN": token})
	if r.err != nil {
		t.Fatalf("secrets.sh: %v\n%s", r.err, r.out)
	}
	got := storedSecrets(t, r.dir)

	// Exactly the secrets stack.yml's functions mount.
	want := map[string]bool{}
	for _, fn := range loadStack(t, defaultsOnly).Functions {
		for _, s := range fn.Secrets {
			want[s] = true
		}
	}
	if !slices.Equal(sortedKeys(got), sortedKeys(want)) {
		t.Fatalf("created %v, stack.yml's functions mount %v", sortedKeys(got), sortedKeys(want))
	}
	if got["mysql-dsn"] != dsn || got["telegram-bot-token"] != token {
		t.Errorf("values: %q", got)
	}
	webhook := got["telegram-webhook-secret"]
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(webhook) {
		t.Errorf("generated webhook secret %q: want 64 hex digits", webhook)
	}
	kept := filepath.Join(keep, "telegram-webhook-secret")
	if st, err := os.Stat(kept); err != nil || st.Mode().Perm() != 0o600 || readFile(t, kept) != webhook {
		t.Errorf("the webhook secret is not kept, mode 0600, in %s: %v", kept, err)
	}
	for _, v := range []string{dsn, token, webhook, "pa55-word"} {
		if strings.Contains(r.out, v) || strings.Contains(r.args, v) {
			t.Errorf("a secret value reached the output or a command line:\n%s\n%s", r.out, r.args)
		}
	}
	if strings.Count(r.args, "--replace") != 3 {
		t.Errorf("every create must --replace:\n%s", r.args)
	}

	// A second run keeps the webhook secret (Telegram was given it); a given one wins and is kept.
	again := runSecrets(t, keep, map[string]string{"MYSQL_DSN": dsn, "TELEGRAM_BOT_TOKEN": token, "FAAS_NAMESPACE": "stock"})
	if again.err != nil || storedSecrets(t, again.dir)["telegram-webhook-secret"] != webhook {
		t.Fatalf("second run: %v, webhook secret changed\n%s", again.err, again.out)
	}
	if strings.Count(again.args, "--namespace stock") != 3 {
		t.Errorf("FAAS_NAMESPACE not passed on:\n%s", again.args)
	}
	given := runSecrets(t, keep, map[string]string{"MYSQL_DSN": dsn, "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_WEBHOOK_SECRET": "given_Secret-1"})
	if given.err != nil || storedSecrets(t, given.dir)["telegram-webhook-secret"] != "given_Secret-1" || readFile(t, kept) != "given_Secret-1" {
		t.Fatalf("a given webhook secret is not used and kept: %v\n%s", given.err, given.out)
	}
}

func TestMakeSecretsRefusesMissingOrBadInput(t *testing.T) {
	full := map[string]string{"MYSQL_DSN": "u:p@tcp(mysql:3306)/stockalert", "TELEGRAM_BOT_TOKEN": "1:x"}
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"no dsn":            {map[string]string{"TELEGRAM_BOT_TOKEN": "1:x"}, "MYSQL_DSN is not set"},
		"no token":          {map[string]string{"MYSQL_DSN": "u:p@tcp(mysql:3306)/stockalert"}, "TELEGRAM_BOT_TOKEN is not set"},
		"bad webhook value": {merge(full, map[string]string{"TELEGRAM_WEBHOOK_SECRET": "has space"}), "may hold only"},
		"gateway refuses":   {merge(full, map[string]string{"FAKE_REFUSE": "telegram-bot-token"}), "telegram-bot-token is missing from faas-cli secret list"},
	} {
		t.Run(name, func(t *testing.T) {
			r := runSecrets(t, t.TempDir(), tc.env)
			if r.err == nil || !strings.Contains(r.out, tc.want) {
				t.Fatalf("want a failure saying %q, got %v:\n%s", tc.want, r.err, r.out)
			}
			if name != "gateway refuses" && len(storedSecrets(t, r.dir)) != 0 {
				t.Errorf("secrets created despite bad input: %v", sortedKeys(storedSecrets(t, r.dir)))
			}
		})
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// fakeTelegram answers setWebhook as the Bot API does and records what it was given.
type fakeTelegram struct {
	mu   sync.Mutex
	path string
	form url.Values
}

func (f *fakeTelegram) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	f.mu.Lock()
	f.path, f.form = r.URL.Path, form
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !strings.HasPrefix(r.URL.Path, "/bot123:good-token/") {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"ok":false,"error_code":401,"description":"Unauthorized"}`))
		return
	}
	_, _ = w.Write([]byte(`{"ok":true,"result":true,"description":"Webhook was set"}`))
}

func runWebhook(t *testing.T, env map[string]string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed: telegram-webhook.sh needs it")
	}
	cmd := exec.Command("sh", "telegram-webhook.sh")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func TestMakeTelegramWebhookSetsTheWebhookWithTheSecretToken(t *testing.T) {
	fake := &fakeTelegram{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	keep := t.TempDir()
	secret := "kept_webhook-secret"
	if err := os.WriteFile(filepath.Join(keep, "telegram-webhook-secret"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TELEGRAM_API_URL": srv.URL, "TELEGRAM_BOT_TOKEN": "123:good-token",
		"PUBLIC_GATEWAY_URL": "https://faas.example.com/", "SECRETS_DIR": keep}
	out, err := runWebhook(t, env)
	if err != nil {
		t.Fatalf("telegram-webhook.sh: %v\n%s", err, out)
	}
	fake.mu.Lock()
	path, form := fake.path, fake.form
	fake.mu.Unlock()
	if path != "/bot123:good-token/setWebhook" {
		t.Errorf("called %s", path)
	}
	if form.Get("url") != "https://faas.example.com/function/telegram-bot" || form.Get("secret_token") != secret ||
		form.Get("allowed_updates") != `["message","callback_query"]` {
		t.Errorf("setWebhook given %v", form)
	}
	if strings.Contains(out, "good-token") || strings.Contains(out, secret) {
		t.Errorf("the token or the secret was printed:\n%s", out)
	}

	// A given TELEGRAM_WEBHOOK_SECRET wins; a wrong token fails, naming Telegram's answer.
	out, err = runWebhook(t, merge(env, map[string]string{"TELEGRAM_WEBHOOK_SECRET": "given"}))
	if err != nil || fake.form.Get("secret_token") != "given" {
		t.Fatalf("given secret: %v %v\n%s", err, fake.form, out)
	}
	out, err = runWebhook(t, merge(env, map[string]string{"TELEGRAM_BOT_TOKEN": "123:bad-token"}))
	if err == nil || !strings.Contains(out, "Unauthorized") || strings.Contains(out, "bad-token") {
		t.Fatalf("a refused token: %v\n%s", err, out)
	}
	for name, bad := range map[string]map[string]string{
		"http gateway":   merge(env, map[string]string{"PUBLIC_GATEWAY_URL": "http://faas.example.com"}),
		"no secret kept": merge(env, map[string]string{"SECRETS_DIR": t.TempDir()}),
		"no token":       merge(env, map[string]string{"TELEGRAM_BOT_TOKEN": ""}),
	} {
		if out, err := runWebhook(t, bad); err == nil {
			t.Errorf("%s: accepted\n%s", name, out)
		}
	}
}

// A faasd compose file as faasd installs it: services is its last top-level key.
const faasdCompose = `version: "3.7"
services:
  gateway:
    image: ghcr.io/openfaas/gateway:0.27.13
    environment:
      - basic_auth=true
    volumes:
      - type: bind
        source: ./secrets/basic-auth-password
        target: /run/secrets/basic-auth-password
    ports:
       - "8080:8080"
`

func runInstall(t *testing.T, dir string) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", filepath.Join("faasd", "install.sh"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "FAASD_DIR=" + dir, "FAASD_RESTART=false",
		"IMAGE_PREFIX=ghcr.io/someone/stockalert", "IMAGE_TAG=1.2.3"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestFaasdInstallAddsTheServicesOnce(t *testing.T) {
	dir := t.TempDir()
	compose := filepath.Join(dir, "docker-compose.yaml")
	if err := os.WriteFile(compose, []byte(faasdCompose), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runInstall(t, dir)
	if err != nil {
		t.Fatalf("install.sh: %v\n%s", err, out)
	}
	var merged struct {
		Version  string                    `yaml:"version"`
		Services map[string]map[string]any `yaml:"services"`
	}
	first := readFile(t, compose)
	if err := yaml.Unmarshal([]byte(first), &merged); err != nil {
		t.Fatalf("merged file: %v\n%s", err, first)
	}
	want := append([]string{"gateway"}, sortedKeys(composeServices(t))...)
	slices.Sort(want)
	if got := sortedKeys(merged.Services); !slices.Equal(got, want) {
		t.Errorf("services %v, want %v", got, want)
	}
	if img := merged.Services["kafka-connector"]["image"]; img != "ghcr.io/someone/stockalert/kafka-connector:1.2.3" {
		t.Errorf("kafka-connector image %v", img)
	}
	password := readFile(t, filepath.Join(dir, "secrets", "mysql-password"))
	if st, _ := os.Stat(filepath.Join(dir, "secrets", "mysql-password")); !regexp.MustCompile(`^[0-9a-f]{48}$`).MatchString(password) || st.Mode().Perm() != 0o600 {
		t.Errorf("mysql-password %q mode %v", password, st.Mode())
	}
	if strings.Contains(out, password) {
		t.Errorf("the password was printed:\n%s", out)
	}
	if backups, _ := filepath.Glob(compose + ".*.bak"); len(backups) != 1 || readFile(t, backups[0]) != faasdCompose {
		t.Errorf("backups %v", backups)
	}

	// Again: nothing changes.
	if out, err := runInstall(t, dir); err != nil || readFile(t, compose) != first ||
		readFile(t, filepath.Join(dir, "secrets", "mysql-password")) != password {
		t.Fatalf("second run changed something: %v\n%s", err, out)
	}

	// A file whose last top-level key is not services is left alone.
	other := t.TempDir()
	odd := faasdCompose + "networks:\n  default: {}\n"
	if err := os.WriteFile(filepath.Join(other, "docker-compose.yaml"), []byte(odd), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runInstall(t, other); err == nil || readFile(t, filepath.Join(other, "docker-compose.yaml")) != odd {
		t.Fatalf("want a refusal and the file unchanged: %v\n%s", err, out)
	}
}
