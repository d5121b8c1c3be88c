package stack

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestParseStackSubstitutesLikeFaasCLI(t *testing.T) {
	raw := `
version: 1.0
provider:
  name: openfaas
  gateway: ${OPENFAAS_URL:-http://127.0.0.1:8080}
functions:
  collector:
    lang: golang-middleware
    handler: ./fn
    image: ${REGISTRY:-ghcr.io/stockalert}/collector:${TAG:-latest}
    environment:
      EMPTY_DEFAULT: ${UNSET_VAR:-}
      PLAIN: $PLAIN_VAR # left as it is, as faas-cli does
      UNSET: ${UNSET_VAR}
      QUOTED: "${QUOTED:-a b}"
      write_timeout: 30s
      number: 42
      flag: true
    environment_file:
      - env/common.yml
      - env/local.yml
    secrets: [telegram-bot-token]
    annotations:
      topic: cron-function
      schedule: "${SCHEDULE:-*/1 * * * *}"
    labels:
      com.openfaas.scale.min: "2"
    limits: {memory: 64Mi, cpu: 100m}
    requests: {memory: 32Mi}
    build_args: {GO111MODULE: "on"}
    skip_build: true
    fprocess: ./handler
configuration:
  templates:
    - name: golang-middleware
      source: https://github.com/openfaas/golang-http-template
  copy:
    - ./shared
`
	dir, _ := filepath.Abs(filepath.Join("..", "testdata"))
	s, err := Parse([]byte(raw), dir, lookupFrom(map[string]string{"TAG": "v2", "PLAIN_VAR": "plain", "QUOTED": ""}))
	if err != nil {
		t.Fatal(err)
	}
	fn := s.Functions["collector"]
	if s.Provider.Gateway != "http://127.0.0.1:8080" || fn.Image != "ghcr.io/stockalert/collector:v2" || fn.Name != "collector" {
		t.Fatalf("gateway %q, image %q, name %q", s.Provider.Gateway, fn.Image, fn.Name)
	}
	wantEnv := map[string]string{
		"EMPTY_DEFAULT": "", "PLAIN": "$PLAIN_VAR", "UNSET": "", "QUOTED": "a b", "write_timeout": "30s",
		"number": "42", "flag": "true", "FROM_FILE": "common", "OVERRIDDEN": "by-local",
	}
	if !reflect.DeepEqual(fn.Environment, wantEnv) {
		t.Fatalf("environment = %v\nwant %v", fn.Environment, wantEnv)
	}
	if sched, ok := CronSchedule(fn.Annotations); !ok || sched != "*/1 * * * *" {
		t.Fatalf("schedule %q %v", sched, ok)
	}
	if fn.Limits.Memory != "64Mi" || fn.Requests.Memory != "32Mi" || fn.Labels[LabelScaleMin] != "2" || fn.BuildArgs["GO111MODULE"] != "on" {
		t.Fatalf("function %+v", fn)
	}
	if len(s.Configuration.Templates) != 1 || s.Configuration.Copy[0] != "./shared" {
		t.Fatalf("configuration %+v", s.Configuration)
	}
	if len(s.Warnings) != 0 {
		t.Fatalf("warnings for known keys: %v", s.Warnings)
	}

	// The environment wins over the default.
	s, err = Parse([]byte(raw), dir, lookupFrom(map[string]string{"REGISTRY": "localhost:5000", "SCHEDULE": "CRON_TZ=Europe/Rome 0 9 * * 1-5"}))
	if err != nil {
		t.Fatal(err)
	}
	if img := s.Functions["collector"].Image; img != "localhost:5000/collector:latest" {
		t.Fatalf("image %q", img)
	}
	if sched, _ := CronSchedule(s.Functions["collector"].Annotations); sched != "CRON_TZ=Europe/Rome 0 9 * * 1-5" {
		t.Fatalf("schedule %q", sched)
	}
}

func TestParseStackRejectsBadStacksNamingTheField(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "testdata"))
	valid := `
provider: {name: openfaas}
functions:
  fn: {lang: go, handler: ./fn, image: x/fn:latest}
`
	if _, err := Parse([]byte(valid), dir, lookupFrom(nil)); err != nil {
		t.Fatalf("minimal stack: %v", err)
	}
	if st, err := Parse([]byte("provider: {name: openfaas}\nfunctions: {}\n"), dir, lookupFrom(nil)); err != nil || len(st.FunctionNames()) != 0 {
		t.Fatalf("empty stack: %v, %v", st, err)
	}
	cases := map[string]struct{ yaml, want string }{
		"version":         {`version: 2.0` + valid, "version: must be 1.0"},
		"provider":        {"provider: {name: faas}\nfunctions:\n  fn: {handler: ./fn, image: x}\n", "provider.name: must be openfaas"},
		"no functions":    {"provider: {name: openfaas}\n", "functions: the stack has no functions"},
		"image":           {"provider: {name: openfaas}\nfunctions:\n  fn: {handler: ./fn}\n", "functions.fn.image: is required"},
		"handler":         {"provider: {name: openfaas}\nfunctions:\n  fn: {image: x}\n", "functions.fn.handler: is required"},
		"handler missing": {"provider: {name: openfaas}\nfunctions:\n  fn: {handler: ./nowhere, image: x}\n", `functions.fn.handler: "./nowhere" is not a folder`},
		"name":            {"provider: {name: openfaas}\nfunctions:\n  Bad_Name: {handler: ./fn, image: x}\n", "functions.Bad_Name: name must be"},
		"namespace":       {"provider: {name: openfaas}\nfunctions:\n  fn: {handler: ./fn, image: x, namespace: dev}\n", "functions.fn.namespace"},
		"scale label":     {"provider: {name: openfaas}\nfunctions:\n  fn: {handler: ./fn, image: x, labels: {com.openfaas.scale.min: two}}\n", "functions.fn.labels.com.openfaas.scale.min"},
		"schedule":        {"provider: {name: openfaas}\nfunctions:\n  fn: {handler: ./fn, image: x, annotations: {topic: cron-function, schedule: '61 * * * *'}}\n", "functions.fn.annotations.schedule"},
		"no schedule":     {"provider: {name: openfaas}\nfunctions:\n  fn: {handler: ./fn, image: x, annotations: {topic: cron-function}}\n", "functions.fn.annotations.schedule"},
		"env file":        {"provider: {name: openfaas}\nfunctions:\n  fn: {handler: ./fn, image: x, environment_file: [missing.yml]}\n", "functions.fn.environment_file"},
		"type":            {"provider: {name: openfaas}\nfunctions:\n  fn: {handler: ./fn, image: x, secrets: {a: b}}\n", "parse yaml"},
		"yaml":            {"provider: [\n", "parse yaml"},
		"substitution":    {"provider: {name: ${BAD\n", "substitute variables"},
	}
	for name, c := range cases {
		_, err := Parse([]byte(c.yaml), dir, lookupFrom(nil))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
	}
	// Every problem is reported at once.
	_, err := Parse([]byte("provider: {name: openfaas}\nfunctions:\n  a: {handler: ./fn}\n  b: {image: x}\n"), dir, lookupFrom(nil))
	if err == nil || !strings.Contains(err.Error(), "functions.a.image") || !strings.Contains(err.Error(), "functions.b.handler") {
		t.Errorf("two bad functions: %v", err)
	}
}

func TestParseStackWarnsAboutUnknownKeys(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "testdata"))
	s, err := Parse([]byte("provider: {name: openfaas}\nfunctions:\n  fn: {handler: ./fn, image: x, enviroment: {A: b}}\n"), dir, lookupFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "enviroment") {
		t.Fatalf("warnings %v", s.Warnings)
	}
}

func TestStackTopics(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "testdata"))
	s, err := Parse([]byte(`
provider: {name: openfaas}
functions:
  alerts: {handler: ./fn, image: x, annotations: {topic: "to-alert-system"}}
  notifier: {handler: ./fn, image: y, annotations: {topic: "to-notifier, to-alert-system"}}
  collector: {handler: ./fn, image: z, annotations: {topic: cron-function, schedule: "@every 1m"}}
  http: {handler: ./fn, image: w}
`), dir, lookupFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"to-alert-system", "to-alert-system.dlq", "to-notifier", "to-notifier.dlq"}
	if got := s.Topics(); !reflect.DeepEqual(got, want) {
		t.Fatalf("topics %v, want %v", got, want)
	}
	if got, want := s.ConsumedTopics(), []string{"to-alert-system", "to-notifier"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("consumed topics %v, want %v", got, want)
	}
	if got := Triggers(s.Functions["notifier"].Annotations); got != "kafka to-notifier,to-alert-system" {
		t.Fatalf("triggers %q", got)
	}
	if got := Triggers(s.Functions["collector"].Annotations); got != "cron @every 1m" {
		t.Fatalf("triggers %q", got)
	}
	if got := Triggers(nil); got != "http" {
		t.Fatalf("triggers %q", got)
	}
}

func TestLoadStackReadsTheFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yml"), lookupFrom(nil))
	if err == nil || !strings.Contains(err.Error(), "missing.yml") {
		t.Fatalf("missing file: %v", err)
	}
	s, err := Load(filepath.Join("..", "testdata", "stack.yml"), lookupFrom(map[string]string{"TICK_SCHEDULE": "@every 2s"}))
	if err != nil {
		t.Fatal(err)
	}
	if sched, _ := CronSchedule(s.Functions["ticker"].Annotations); sched != "@every 2s" {
		t.Fatalf("schedule %q", sched)
	}
	abs, _ := filepath.Abs(filepath.Join("..", "testdata"))
	if s.Dir != abs || !filepath.IsAbs(s.Path) || len(s.Functions) != 2 {
		t.Fatalf("stack %+v", s)
	}
}

func TestTopicPartitions(t *testing.T) {
	s := &Stack{Functions: map[string]Function{
		"a": {Environment: map[string]string{"KAFKA_TOPIC_PARTITIONS": "4"}},
		"b": {Environment: map[string]string{"KAFKA_TOPIC_PARTITIONS": " 12 "}},
		"c": {Environment: map[string]string{}},
	}}
	if got := s.TopicPartitions(); got != 12 {
		t.Errorf("TopicPartitions = %d, want the largest, 12", got)
	}
	none := &Stack{Functions: map[string]Function{"c": {Environment: map[string]string{"KAFKA_TOPIC_PARTITIONS": "many"}}}}
	if got := none.TopicPartitions(); got != DefaultTopicPartitions {
		t.Errorf("TopicPartitions without a valid setting = %d, want %d", got, DefaultTopicPartitions)
	}
}
