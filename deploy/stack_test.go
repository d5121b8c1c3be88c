package deploy_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/robfig/cron/v3"

	"github.com/stockalert/stockalert/localfaas/stack"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// The defaults of stack.yml's image names: ${IMAGE_PREFIX:-stockalert}/<function>:${IMAGE_TAG:-0.1.0}.
const (
	defaultImagePrefix = "stockalert"
	defaultImageTag    = "0.1.0"
)

// cronConnectorParser is the parser of OpenFaaS's cron-connector (types/scheduler.go): robfig/cron v3,
// five fields or a descriptor, no seconds.
var cronConnectorParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func TestStackFollowsFaasCLISchema(t *testing.T) {
	raw := readFile(t, filepath.Join(root, "stack.yml"))
	s := loadStack(t, defaultsOnly)
	if s.Version != "1.0" {
		t.Errorf("version %q: faas-cli accepts only 1.0", s.Version)
	}
	if s.Provider.Name != "openfaas" {
		t.Errorf("provider.name %q: faas-cli accepts only openfaas", s.Provider.Name)
	}
	if len(s.Warnings) > 0 {
		t.Errorf("keys faas-cli's schema does not know: %v", s.Warnings)
	}
	if !strings.Contains(raw, "gateway: ${OPENFAAS_URL:-http://127.0.0.1:8080}") {
		t.Errorf("provider.gateway must be ${OPENFAAS_URL:-http://127.0.0.1:8080}")
	}
	if s.Provider.Gateway != "http://127.0.0.1:8080" {
		t.Errorf("default gateway %q", s.Provider.Gateway)
	}
	if got := loadStack(t, envOf(map[string]string{"OPENFAAS_URL": "https://faas.example.com"})).Provider.Gateway; got != "https://faas.example.com" {
		t.Errorf("OPENFAAS_URL does not set the gateway: %q", got)
	}

	custom := loadStack(t, envOf(map[string]string{"IMAGE_PREFIX": "ghcr.io/someone/stockalert", "IMAGE_TAG": "1.2.3"}))
	for _, name := range s.FunctionNames() {
		fn := s.Functions[name]
		if want := defaultImagePrefix + "/" + name + ":" + defaultImageTag; fn.Image != want {
			t.Errorf("%s: image %q, want %q with the defaults", name, fn.Image, want)
		}
		if want := "ghcr.io/someone/stockalert/" + name + ":1.2.3"; custom.Functions[name].Image != want {
			t.Errorf("%s: image %q with IMAGE_PREFIX and IMAGE_TAG set, want %q", name, custom.Functions[name].Image, want)
		}
		if fn.Lang != "golang-stockalert" {
			t.Errorf("%s: lang %q, want golang-stockalert", name, fn.Lang)
		}
		for _, f := range []string{"template.yml", "Dockerfile", "build.sh"} {
			if _, err := os.Stat(filepath.Join(root, "template", fn.Lang, f)); err != nil {
				t.Errorf("%s: template %s: %v", name, fn.Lang, err)
			}
		}
	}
}

func TestEveryFunctionFolderIsInTheStackAndBackAgain(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var folders []string
	for _, e := range entries {
		if e.IsDir() {
			folders = append(folders, e.Name())
		}
	}
	s := loadStack(t, defaultsOnly)
	if got := s.FunctionNames(); !reflect.DeepEqual(got, folders) {
		t.Fatalf("stack.yml functions %v, functions/ folders %v", got, folders)
	}
	for _, name := range folders {
		if h := s.Functions[name].Handler; filepath.Clean(h) != filepath.Join("functions", name) {
			t.Errorf("%s: handler %q, want ./functions/%s", name, h, name)
		}
	}
}

// Every package of the module a function imports, or the tests of those packages import (the
// template's build.sh vets and tests them), lies in its handler folder or in a configuration.copy
// path: otherwise its build context misses it.
func TestEveryFunctionImportsOnlyItsBuildContext(t *testing.T) {
	s := loadStack(t, defaultsOnly)
	for _, want := range []string{"go.mod", "go.sum"} {
		if !slices.ContainsFunc(s.Configuration.Copy, func(p string) bool { return filepath.Clean(p) == want }) {
			t.Errorf("configuration.copy lacks ./%s", want)
		}
	}
	for _, p := range s.Configuration.Copy {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("configuration.copy %s: %v", p, err)
		}
	}
	// Compiling the functions is the rest of the suite's job (every function has tests, and CI runs
	// make build-functions); what this test adds is that each one's imports are in its build context.
	absRoot, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range s.FunctionNames() {
		handler := s.Functions[name].Handler
		// The module's packages the function is built from, then everything they and their tests import.
		pkgs := strings.Fields(goCmd(t, root, "list", "-deps", "-f", "{{with .Module}}{{if .Main}}{{$.ImportPath}}{{end}}{{end}}", "./"+filepath.Clean(handler)))
		dirs := goCmd(t, root, append([]string{"list", "-deps", "-test", "-f", "{{with .Module}}{{if .Main}}{{$.Dir}}{{end}}{{end}}"}, pkgs...)...)
		for _, dir := range strings.Fields(dirs) {
			rel, err := filepath.Rel(absRoot, dir)
			if err != nil {
				t.Fatal(err)
			}
			inContext := rel == filepath.Clean(handler) || slices.ContainsFunc(s.Configuration.Copy, func(p string) bool {
				p = filepath.Clean(p)
				return rel == p || strings.HasPrefix(rel, p+string(filepath.Separator))
			})
			if !inContext {
				t.Errorf("%s imports ./%s, which is neither in its handler folder nor in configuration.copy", name, rel)
			}
		}
	}
}

func TestCronScheduleParsesAsTheCronConnectorDoes(t *testing.T) {
	for _, env := range []map[string]string{nil, {"COLLECTOR_SCHEDULE": "@every 30s"}, {"COLLECTOR_SCHEDULE": "CRON_TZ=America/New_York */5 9-16 * * 1-5"}} {
		s := loadStack(t, envOf(env))
		var cronFunctions []string
		for _, name := range s.FunctionNames() {
			schedule, ok := stack.CronSchedule(s.Functions[name].Annotations)
			if !ok {
				continue
			}
			cronFunctions = append(cronFunctions, name)
			if _, err := cronConnectorParser.Parse(schedule); err != nil {
				t.Errorf("%s: schedule %q (env %v) does not parse as the cron-connector parses it: %v", name, schedule, env, err)
			}
		}
		if !reflect.DeepEqual(cronFunctions, []string{"data-collector"}) {
			t.Errorf("cron functions %v, want [data-collector]", cronFunctions)
		}
	}
	if _, err := cronConnectorParser.Parse("*/1 * * * * *"); err == nil {
		t.Fatal("the parser takes six fields: it is not the cron-connector's")
	}
}

// The Kafka topics agree everywhere: the functions' topic annotations (what localfaas hands its
// in-process connector), the topics the functions publish to, and the topics the deploy files give the
// kafka-connector.
func TestTopicsAgreeAcrossStackLocalFaaSAndDeployFiles(t *testing.T) {
	s := loadStack(t, defaultsOnly)
	consumed := s.ConsumedTopics()
	published := []string{stockalert.TopicAlerts, stockalert.TopicPrices, stockalert.TopicCollect}
	slices.Sort(published)
	if !reflect.DeepEqual(consumed, published) {
		t.Errorf("functions are triggered by %v but publish to %v", consumed, published)
	}
	for _, topic := range consumed {
		if !slices.Contains(s.Topics(), topic+stack.DLQSuffix) {
			t.Errorf("localfaas creates no dead-letter topic for %s", topic)
		}
	}
	faasd := composeServices(t)["kafka-connector"]
	if got := splitList(envList(t, faasd["environment"])["topics"]); !reflect.DeepEqual(got, consumed) {
		t.Errorf("deploy/faasd kafka-connector topics %v, stack.yml's annotations %v", got, consumed)
	}
	if got := splitList(connectorConfigMap(t)["topics"]); !reflect.DeepEqual(got, consumed) {
		t.Errorf("deploy/kubernetes kafka-connector topics %v, stack.yml's annotations %v", got, consumed)
	}
}

// Every environment variable stack.yml gives a function is one the code reads (a typo would be
// silently ignored).
func TestStackEnvironmentIsReadByTheCode(t *testing.T) {
	read := envNamesRead(t, "shared", "functions")
	s := loadStack(t, defaultsOnly)
	for _, name := range s.FunctionNames() {
		for _, k := range sortedKeys(s.Functions[name].Environment) {
			if !read[k] {
				t.Errorf("%s: environment %s is read by no env tag under shared/ or functions/", name, k)
			}
		}
	}
}

// substitutionPattern finds the variables stack.yml takes from the user's environment.
var substitutionPattern = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`)

// documentedNames returns the names the docs must show in backquotes. deploy/README.md: the variables
// stack.yml substitutes, the secrets and the variables of the deploy scripts; README.md ("Deploy to
// OpenFaaS" and its environment tables): those and every function's environment in stack.yml.
func documentedNames(t *testing.T) (deployDoc, readme []string) {
	s := loadStack(t, defaultsOnly)
	set := map[string]bool{"MYSQL_DSN": true, "TELEGRAM_BOT_TOKEN": true, "TELEGRAM_WEBHOOK_SECRET": true, "PUBLIC_GATEWAY_URL": true}
	for _, line := range strings.Split(readFile(t, filepath.Join(root, "stack.yml")), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, m := range substitutionPattern.FindAllStringSubmatch(line, -1) {
			set[m[1]] = true
		}
	}
	for _, fn := range s.Functions {
		for _, secret := range fn.Secrets {
			set[secret] = true
		}
	}
	deployDoc = sortedKeys(set)
	for _, fn := range s.Functions {
		for k := range fn.Environment {
			set[k] = true
		}
	}
	return deployDoc, sortedKeys(set)
}

// README.md is the lead's: this test fails until its "Deploy to OpenFaaS" section and environment
// tables name every variable and secret.
func TestDocsNameEveryVariableAndSecret(t *testing.T) {
	deployDoc, readme := documentedNames(t)
	for doc, names := range map[string][]string{filepath.Join("deploy", "README.md"): deployDoc, "README.md": readme} {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		text := string(b)
		var missing []string
		for _, n := range names {
			if !strings.Contains(text, "`"+n+"`") {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s does not name (in backquotes) %s", doc, strings.Join(missing, ", "))
		}
	}
}

// envDefaultPattern finds an env tag with its default: `env:"NAME" envDefault:"value"`.
var envDefaultPattern = regexp.MustCompile(`env:"([A-Za-z_][A-Za-z0-9_]*)"\s+envDefault:"([^"]*)"`)

// TestNotifierPaceIsSetThroughTheStack: the notifier's flood-control settings are in its stack
// environment (make run and faas-cli pass a function only that), with the code's defaults, and a value
// in the user's environment reaches the function. The notifier is pinned to one replica, since its
// pace is kept per process.
func TestNotifierPaceIsSetThroughTheStack(t *testing.T) {
	code := readFile(t, filepath.Join(root, "functions", "alert-notifier", "alertnotifierapp", "alertnotifierapp.go"))
	defaults := map[string]string{}
	for _, m := range envDefaultPattern.FindAllStringSubmatch(code, -1) {
		defaults[m[1]] = m[2]
	}
	names := []string{"TELEGRAM_MAX_RETRY_AFTER", "TELEGRAM_BOT_MESSAGES_PER_SECOND", "TELEGRAM_CHAT_MESSAGES_PER_SECOND", "TELEGRAM_GROUP_MESSAGES_PER_MINUTE"}
	set := map[string]string{}
	for i, n := range names {
		set[n] = strconv.Itoa(100 + i)
	}
	fn := loadStack(t, defaultsOnly).Functions["alert-notifier"]
	custom := loadStack(t, envOf(set)).Functions["alert-notifier"]
	for _, n := range names {
		want, ok := defaults[n]
		if !ok {
			t.Fatalf("alertnotifierapp reads no %s with a default", n)
		}
		if got, ok := fn.Environment[n]; !ok || got != want {
			t.Errorf("alert-notifier environment %s = %q (set %t), want the code's default %q", n, got, ok, want)
		}
		if got := custom.Environment[n]; got != set[n] {
			t.Errorf("%s=%s in the environment gives alert-notifier %q", n, set[n], got)
		}
	}
	if got := fn.Labels["com.openfaas.scale.max"]; got != "1" {
		t.Errorf("alert-notifier label com.openfaas.scale.max = %q, want \"1\" (the per-bot pace is per process)", got)
	}
}

// TestQuoteCollectorPricesWithTheDataCollectorsSettings: under fan-out the quote-collector prices what
// the data-collector would have priced, so every quote-source setting stack.yml gives the
// data-collector (YAHOO_*, QUOTE_*, COLLECTOR_CONCURRENCY, COLLECTOR_QUOTE_TIMEOUT) reaches the
// quote-collector too, with the same value, and a value in the user's environment reaches both.
func TestQuoteCollectorPricesWithTheDataCollectorsSettings(t *testing.T) {
	shared := func(k string) bool {
		return strings.HasPrefix(k, "YAHOO_") || strings.HasPrefix(k, "QUOTE_") ||
			k == "COLLECTOR_CONCURRENCY" || k == "COLLECTOR_QUOTE_TIMEOUT"
	}
	dc := loadStack(t, defaultsOnly).Functions["data-collector"]
	set := map[string]string{}
	for k := range dc.Environment {
		if shared(k) {
			set[k] = "7"
		}
	}
	if len(set) < 3 {
		t.Fatalf("data-collector has only %v of the quote-source settings", set)
	}
	for _, env := range []func(string) (string, bool){defaultsOnly, envOf(set)} {
		s := loadStack(t, env)
		dc, qc := s.Functions["data-collector"], s.Functions["quote-collector"]
		for k, v := range dc.Environment {
			if shared(k) && qc.Environment[k] != v {
				t.Errorf("data-collector prices with %s=%q but quote-collector gets %q", k, v, qc.Environment[k])
			}
		}
	}
}
