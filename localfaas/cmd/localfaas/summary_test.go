package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/stack"
)

// writes records every Write call separately.
type writes struct{ calls []string }

func (w *writes) Write(b []byte) (int, error) {
	w.calls = append(w.calls, string(b))
	return len(b), nil
}

func testSummary(cron string) summary {
	return summary{
		Gateway: "http://127.0.0.1:8080", Listen: "127.0.0.1:8080", Role: "gateway", Cron: cron,
		User: "admin", Password: "pw", DataDir: "data", Store: "SQLite data/stockalert.db",
		Kafka: "embedded 127.0.0.1:9092", Topics: []string{"t", "t.dlq", "t.retry"},
		Telegram: "off", ReadyIn: 1500 * time.Millisecond,
		Functions: []types.FunctionStatus{
			{Name: "collector", Replicas: 1, AvailableReplicas: 1,
				Annotations: &map[string]string{"topic": "cron-function", "schedule": "*/1 * * * *"}},
			{Name: "consumer", Replicas: 1, AvailableReplicas: 1, Annotations: &map[string]string{"topic": "t"}},
		},
	}
}

// TestWriteSummaryInOneWrite: the whole table reaches stdout in one Write, its last line being
// summaryEnd, so neither a log line nor a reader can see half of it.
func TestWriteSummaryInOneWrite(t *testing.T) {
	var w writes
	if err := writeSummary(&w, testSummary("")); err != nil {
		t.Fatal(err)
	}
	if len(w.calls) != 1 {
		t.Fatalf("the table took %d writes, want 1: %q", len(w.calls), w.calls)
	}
	table := w.calls[0]
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	if last := lines[len(lines)-1]; last != summaryEnd {
		t.Errorf("last line %q, want %q:\n%s", last, summaryEnd, table)
	}
	for _, want := range []string{"localfaas ready in 1.5s", "FUNCTION", "cron */1 * * * *", "kafka t", "topics: t, t.dlq, t.retry", "telegram"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

// TestWriteSummaryExternalCron: with EXTERNAL_CRON the cron function's TRIGGERS column says its cron is
// external, agreeing with the cron row, instead of a schedule localfaas does not run.
func TestWriteSummaryExternalCron(t *testing.T) {
	var w writes
	if err := writeSummary(&w, testSummary("off: schedules left to an external cron-connector (EXTERNAL_CRON)")); err != nil {
		t.Fatal(err)
	}
	table := strings.Join(w.calls, "")
	if strings.Contains(table, "cron */1") || !strings.Contains(table, "cron (external)") {
		t.Errorf("want the collector's trigger shown as cron (external), not its schedule:\n%s", table)
	}
	if !strings.Contains(table, "kafka t") {
		t.Errorf("the consumer's trigger changed:\n%s", table)
	}
}

// TestRunTopics: the status table's topics include the connector's <topic>.retry twins beside the
// .dlq ones.
func TestRunTopics(t *testing.T) {
	st, err := stack.Load(filepath.Join("..", "..", "testdata", "stack.yml"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	got := runTopics(st)
	if want := []string{"local-test", "local-test.dlq", "local-test.retry"}; !slices.Equal(got, want) {
		t.Errorf("runTopics = %v, want %v", got, want)
	}
}

// TestWriteSummaryDashboard: with a dashboard function in the stack the table names its address and
// how to sign in; without one it has no dashboard row.
func TestWriteSummaryDashboard(t *testing.T) {
	var w writes
	if err := writeSummary(&w, testSummary("")); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(w.calls, ""), "\nweb ") {
		t.Errorf("a dashboard row without a dashboard function:\n%s", w.calls)
	}
	s := testSummary("")
	s.Functions = append(s.Functions, types.FunctionStatus{Name: "dashboard", Replicas: 1, AvailableReplicas: 1})
	w = writes{}
	if err := writeSummary(&w, s); err != nil {
		t.Fatal(err)
	}
	table := strings.Join(w.calls, "")
	if want := "web       http://127.0.0.1:8080/function/dashboard/  (the dashboard: sign in with the link the bot answers to /web)"; !strings.Contains(table, want) {
		t.Errorf("table lacks %q:\n%s", want, table)
	}
}
