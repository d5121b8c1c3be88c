package deploy_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/caarlos0/env/v11"
	"github.com/openfaas/faas-provider/types"
	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/stockalert/stockalert/kafkaconnector"
	"github.com/stockalert/stockalert/localfaas/provider"
	"github.com/stockalert/stockalert/localfaas/stack"
	"github.com/stockalert/stockalert/localfaas/supervisor"
	"github.com/stockalert/stockalert/localfaas/trigger"
	"github.com/stockalert/stockalert/shared/collector"
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/edge/httpapi"
	"github.com/stockalert/stockalert/shared/envconfig"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/kafka"
	"github.com/stockalert/stockalert/shared/yahoo"
)

// externalMetrics are names the rules use that other programs export, with the program.
var externalMetrics = map[string]string{
	"kube_pod_container_status_restarts_total": "kube-state-metrics",
}

// descRecorder is a prometheus.Registerer that keeps the fully-qualified name of every metric
// described to it: unlike a registry's Gather, it sees a labelled metric before its first sample.
type descRecorder struct{ names map[string]string }

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *descRecorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		m := fqName.FindStringSubmatch(d.String())
		if m == nil {
			return fmt.Errorf("no name in %s", d)
		}
		r.names[m[1]] = fmt.Sprintf("%T", c)
	}
	return nil
}

func (r *descRecorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

func (r *descRecorder) Unregister(prometheus.Collector) bool { return true }

// exportedMetrics builds every metric collector of the code (functions, kafka-connector, local
// gateway and supervisor) into a descRecorder through the constructors the wiring calls, and returns
// the names: the exposition's, histograms with their _bucket, _sum and _count series.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	rec := &descRecorder{names: map[string]string{}}
	logger := slog.New(slog.DiscardHandler)
	parse := func(v any, vars map[string]string) {
		t.Helper()
		if err := envconfig.Parse(v, env.Options{Environment: vars}); err != nil {
			t.Fatal(err)
		}
	}
	var fcfg faas.Config
	parse(&fcfg, nil)
	if _, err := faas.Middleware(fcfg, "some-function", logger, rec); err != nil {
		t.Fatal(err)
	}
	m, err := decorator.NewMetrics(rec)
	if err != nil {
		t.Fatal(err)
	}
	var ycfg yahoo.Config
	parse(&ycfg, nil)
	if _, err := yahoo.New(ycfg, logger, rec); err != nil {
		t.Fatal(err)
	}
	var ccfg collector.Config
	parse(&ccfg, nil)
	if _, err := collector.New(ccfg, nil, collector.Handlers{}, logger, m, rec); err != nil {
		t.Fatal(err)
	}
	var limits httpapi.ClientLimits
	parse(&limits, nil)
	if _, err := httpapi.NewClientLimiter(limits, rec); err != nil {
		t.Fatal(err)
	}
	var kcfg kafka.Config
	parse(&kcfg, map[string]string{"KAFKA_BROKERS": "127.0.0.1:1"})
	if _, err := kafka.NewPublisher(kcfg, logger, rec); err != nil {
		t.Fatal(err)
	}
	var conn kafkaconnector.Config
	parse(&conn, map[string]string{"broker_hosts": "127.0.0.1:1", "topics": "t"})
	if _, err := kafkaconnector.New(conn, logger, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := provider.NewMetrics(rec, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := supervisor.New(supervisor.Config{Stack: &stack.Stack{}, BinDir: t.TempDir(), SecretsDir: t.TempDir(), Logger: logger, Registerer: rec}); err != nil {
		t.Fatal(err)
	}
	if _, err := trigger.NewCronTrigger(trigger.CronConfig{Gateway: "http://127.0.0.1:1", Functions: noFunctions{}, Logger: logger, Registerer: rec}); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for n, collector := range rec.names {
		names[n] = true
		if strings.Contains(collector, "Histogram") {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[n+s] = true
			}
		}
	}
	return names
}

type noFunctions struct{}

func (noFunctions) Functions() []types.FunctionStatus { return nil }

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	promKeywords = map[string]bool{"and": true, "or": true, "unless": true, "offset": true, "bool": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true}
)

// metricNames returns the metric names a PromQL expression selects. It is a careful scan, not a
// parser (Prometheus's is a heavy module): it drops string literals, label matchers ({...}), range
// and subquery durations ([...]) and grouping label lists (by/without/on/ignoring/group_x (...)), then
// keeps each identifier that is neither a keyword, nor a function or aggregation (followed by "("),
// nor part of a number or duration (preceded by a digit or "."). Names in {__name__="..."} are not
// seen: the rules and dashboard do not use them.
func metricNames(expr string) []string {
	e := promString.ReplaceAllString(expr, `""`)
	e = promMatchers.ReplaceAllString(e, " ")
	e = promRange.ReplaceAllString(e, " ")
	e = promGrouping.ReplaceAllString(e, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(e, -1) {
		word := e[loc[0]:loc[1]]
		if loc[0] > 0 && strings.ContainsAny(e[loc[0]-1:loc[0]], "0123456789.") {
			continue
		}
		if promKeywords[strings.ToLower(word)] || strings.HasPrefix(strings.TrimLeft(e[loc[1]:], " \t\n"), "(") {
			continue
		}
		out = append(out, word)
	}
	return out
}

func TestMetricNamesScan(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (topic) (rate(a_total{x="b{c}",y=~"d|e"}[5m])) / on (topic) group_left b_bytes offset 1h > 0.95`: {"a_total", "b_bytes"},
		`histogram_quantile(0.95, sum by (le) (rate(c_seconds_bucket[5m:1m])))`:                                  {"c_seconds_bucket"},
		`d unless e offset 15m or 1e3 < f and up`:                                                                {"d", "e", "f", "up"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %q, want %q", expr, got, want)
		}
	}
}

// monitoringExprs returns every PromQL expression of deploy/monitoring: the alerting rules' and the
// Grafana dashboard's targets, each with where it is.
func monitoringExprs(t *testing.T) map[string]string {
	t.Helper()
	exprs := map[string]string{}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert, Record, Expr string
				For                 string
				Labels, Annotations map[string]string
			}
		}
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(root, "deploy", "monitoring", "alerts.yml"))), &rules); err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs["alerts.yml "+r.Alert] = r.Expr
			if r.For == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s: want for:, a severity label and summary and description annotations", r.Alert)
			}
		}
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ RefID, Expr string }
		}
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(root, "deploy", "monitoring", "grafana-dashboard.json"))), &dash); err != nil {
		t.Fatal(err)
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs["grafana-dashboard.json "+p.Title+" "+tg.RefID] = tg.Expr
		}
	}
	if len(exprs) < 10 {
		t.Fatalf("only %d expressions read from deploy/monitoring", len(exprs))
	}
	return exprs
}

// Every metric an alerting rule or a dashboard panel reads is one the code exports (or, named in
// externalMetrics, another program's): a renamed metric must not leave a rule that never fires.
func TestMonitoringNamesOnlyExportedMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	for _, must := range []string{"stockalert_usecase_duration_seconds_bucket", "kafka_connector_lag", "gateway_service_count",
		"faas_http_requests_total", "localfaas_function_restarts_total", "stockalert_alert_deliveries_total"} {
		if !exported[must] {
			t.Fatalf("the collected names miss %s: %v", must, exported)
		}
	}
	for where, expr := range monitoringExprs(t) {
		names := metricNames(expr)
		if len(names) == 0 {
			t.Errorf("%s: no metric in %q", where, expr)
		}
		for _, n := range names {
			if !exported[n] && externalMetrics[n] == "" {
				t.Errorf("%s: %s is not exported by the code", where, n)
			}
		}
	}
}

// The dashboard's queries parse as PromQL, checked by promtool as rules (.ci/run installs it; the
// alerting rules themselves are checked there too).
func TestDashboardQueriesParse(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian: apt-get install prometheus); .ci/run installs it")
	}
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	i := 0
	for _, expr := range monitoringExprs(t) {
		i++
		quoted, err := json.Marshal(expr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "      - record: dashboard:query%d\n        expr: %s\n", i, quoted)
	}
	file := filepath.Join(t.TempDir(), "queries.yml")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// The README's metrics table names every metric the code exports.
func TestReadmeDocumentsEveryMetric(t *testing.T) {
	readme := readFile(t, filepath.Join(root, "README.md"))
	for n := range exportedMetrics(t) {
		base := n
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			if strings.HasSuffix(n, s) && !strings.Contains(readme, "| `"+n+"` |") {
				base = strings.TrimSuffix(n, s)
			}
		}
		if !strings.Contains(readme, "| `"+base+"` |") {
			t.Errorf("README's metrics table has no row for %s", base)
		}
	}
}

// prometheus.yml scrapes every function of stack.yml, each through its own /function/<name>/metrics
// and labelled function_name=<name>: a new function must not go unwatched.
func TestPrometheusScrapesEveryFunction(t *testing.T) {
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Labels map[string]string
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(root, "deploy", "monitoring", "prometheus.yml"))), &cfg); err != nil {
		t.Fatal(err)
	}
	var scraped []string
	for _, job := range cfg.ScrapeConfigs {
		if job.JobName != "stockalert-functions" {
			continue
		}
		for _, sc := range job.StaticConfigs {
			name := sc.Labels["function_name"]
			if want := "/function/" + name + "/metrics"; sc.Labels["__metrics_path__"] != want {
				t.Errorf("function %q: __metrics_path__ %q, want %q", name, sc.Labels["__metrics_path__"], want)
			}
			scraped = append(scraped, name)
		}
	}
	slices.Sort(scraped)
	if want := loadStack(t, defaultsOnly).FunctionNames(); !slices.Equal(scraped, want) {
		t.Errorf("the stockalert-functions job scrapes %v, stack.yml has %v", scraped, want)
	}
}

// The alerting rules fire as meant, on series shaped as the code exports them and labelled as
// prometheus.yml scrapes them (promtool test rules; .ci/run installs promtool).
func TestAlertRulesFire(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian: apt-get install prometheus); .ci/run installs it")
	}
	rules, err := filepath.Abs(filepath.Join(root, "deploy", "monitoring", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	breakerDescription, err := json.Marshal("In the data-collector: no fresh quotes, prices are not collected and no alert fires; " +
		"elsewhere, no new ticker is accepted and no chart is drawn. Check the function's log (\"quote source breaker state changed\"), " +
		"whether the quote API answers from this network, and stockalert_collector_quotes_total by outcome.")
	if err != nil {
		t.Fatal(err)
	}
	// Every function that opens a quote source has its own breaker and its own gauge: the collector's
	// stays open while the other functions' stay closed (they seldom ask for quotes).
	tests := `rule_files: [` + rules + `]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'stockalert_quote_breaker_state{job="stockalert-functions",function_name="data-collector",source="yahoo"}'
        values: '0 0 2x30'
      - series: 'stockalert_quote_breaker_state{job="stockalert-functions",function_name="stock-queries",source="yahoo"}'
        values: '0x32'
    alert_rule_test:
      - eval_time: 5m
        alertname: QuoteBreakerOpen
        exp_alerts: []
      - eval_time: 25m
        alertname: QuoteBreakerOpen
        exp_alerts:
          - exp_labels: {severity: warning, source: yahoo, function_name: data-collector}
            exp_annotations:
              summary: "The yahoo quote source's circuit breaker in data-collector has not closed for 15 minutes."
              description: ` + string(breakerDescription) + `
`
	file := filepath.Join(t.TempDir(), "alerts_test.yml")
	if err := os.WriteFile(file, []byte(tests), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "test", "rules", file).CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
