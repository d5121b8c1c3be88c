package decorator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/stockalert/stockalert/shared/decorator"
)

type Ping struct{ Fail bool }

type Nested struct{}

type Sum struct{ A, B int }

// logs is a JSON logger at Debug and the records it wrote.
type logs struct{ buf bytes.Buffer }

func (l *logs) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(&l.buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (l *logs) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

type commandFunc[C any] func(ctx context.Context, cmd C) error

func (f commandFunc[C]) Handle(ctx context.Context, cmd C) error { return f(ctx, cmd) }

func TestOneLinePerUseCaseWithWhatTheHandlerReported(t *testing.T) {
	var l logs
	h := decorator.ApplyCommand[Ping](commandFunc[Ping](func(ctx context.Context, p Ping) error {
		decorator.Report(ctx, slog.LevelInfo, "pinged", slog.String("event", "pinged"), slog.Int("count", 3))
		if p.Fail {
			return errors.New("pong lost")
		}
		return nil
	}), l.logger(), nil)

	if err := h.Handle(context.Background(), Ping{}); err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(context.Background(), Ping{Fail: true}); err == nil {
		t.Fatal("the failure was lost")
	}
	recs := l.records(t)
	if len(recs) != 2 {
		t.Fatalf("%d lines for two use cases: %v", len(recs), recs)
	}
	ok, failed := recs[0], recs[1]
	for k, want := range map[string]any{"level": "INFO", "msg": "pinged", "command": "Ping", "outcome": "ok", "event": "pinged", "count": 3.0} {
		if ok[k] != want {
			t.Errorf("ok line %s = %v, want %v (%v)", k, ok[k], want, ok)
		}
	}
	if _, has := ok["err"]; has {
		t.Errorf("ok line has an err: %v", ok)
	}
	for k, want := range map[string]any{"level": "ERROR", "msg": "pinged", "outcome": "error", "err": "pong lost", "event": "pinged"} {
		if failed[k] != want {
			t.Errorf("failed line %s = %v, want %v (%v)", k, failed[k], want, failed)
		}
	}
}

func TestWithoutAReportTheLineIsTheDecoratorsOwn(t *testing.T) {
	var l logs
	h := decorator.ApplyCommand[Ping](commandFunc[Ping](func(context.Context, Ping) error { return nil }), l.logger(), nil)
	if err := h.Handle(context.Background(), Ping{}); err != nil {
		t.Fatal(err)
	}
	recs := l.records(t)
	if len(recs) != 1 || recs[0]["level"] != "DEBUG" || recs[0]["msg"] != "command handled" || recs[0]["event"] != nil {
		t.Fatalf("lines %v, want one DEBUG 'command handled' without event", recs)
	}
}

func TestANestedUseCaseReportsToItsOwnLine(t *testing.T) {
	var l logs
	logger := l.logger()
	inner := decorator.ApplyCommand[Ping](commandFunc[Ping](func(ctx context.Context, _ Ping) error {
		decorator.Report(ctx, slog.LevelInfo, "inner", slog.String("who", "inner"))
		return nil
	}), logger, nil)
	outer := decorator.ApplyCommand[Nested](commandFunc[Nested](func(ctx context.Context, _ Nested) error {
		if err := inner.Handle(ctx, Ping{}); err != nil {
			return err
		}
		decorator.Report(ctx, slog.LevelWarn, "outer", slog.String("who", "outer"))
		return nil
	}), logger, nil)
	if err := outer.Handle(context.Background(), Nested{}); err != nil {
		t.Fatal(err)
	}
	recs := l.records(t)
	if len(recs) != 2 {
		t.Fatalf("lines %v, want two", recs)
	}
	if recs[0]["msg"] != "inner" || recs[0]["who"] != "inner" || recs[0]["command"] != "Ping" {
		t.Errorf("inner line %v", recs[0])
	}
	if recs[1]["msg"] != "outer" || recs[1]["who"] != "outer" || recs[1]["level"] != "WARN" || recs[1]["command"] != "Nested" {
		t.Errorf("outer line %v", recs[1])
	}
}

func TestReportOutsideAUseCaseDoesNothing(_ *testing.T) {
	decorator.Report(context.Background(), slog.LevelInfo, "nobody listens") // must not panic
}

type sumHandler struct{}

func (sumHandler) Handle(ctx context.Context, s Sum) (int, error) {
	decorator.Report(ctx, slog.LevelInfo, "summed", slog.Int("sum", s.A+s.B))
	return s.A + s.B, nil
}

func TestReportingHandlerIsLoggedAndMeasuredAsACommand(t *testing.T) {
	var l logs
	reg := prometheus.NewRegistry()
	m, err := decorator.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	h := decorator.ApplyReporting[Sum, int](sumHandler{}, l.logger(), m)
	got, err := h.Handle(context.Background(), Sum{2, 3})
	if err != nil || got != 5 {
		t.Fatalf("Handle = %d, %v", got, err)
	}
	recs := l.records(t)
	if len(recs) != 1 || recs[0]["msg"] != "summed" || recs[0]["command"] != "Sum" || recs[0]["sum"] != 5.0 {
		t.Fatalf("lines %v", recs)
	}
	all, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var mfs []*dto.MetricFamily
	for _, mf := range all {
		if mf.GetName() == "stockalert_usecase_duration_seconds" {
			mfs = append(mfs, mf)
		}
	}
	// One series: a command named after its type, handled once.
	if len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("metrics %v, want one series", mfs)
	}
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range metric.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["kind"] != "command" || labels["name"] != "Sum" || labels["outcome"] != "ok" || metric.GetHistogram().GetSampleCount() != 1 {
				t.Errorf("series %v count %d", labels, metric.GetHistogram().GetSampleCount())
			}
		}
	}
}

func TestHandlersCountAlertsRaisedAndDeliveriesByChannel(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := decorator.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	h := decorator.ApplyCommand[Ping](commandFunc[Ping](func(ctx context.Context, _ Ping) error {
		decorator.CountAlertsRaised(ctx, 3)
		decorator.CountDelivery(ctx, "telegram", "sent")
		decorator.CountDelivery(ctx, "email", "failed")
		decorator.CountDelivery(ctx, "email", "failed")
		return nil
	}), nil, m)
	if err := h.Handle(context.Background(), Ping{}); err != nil {
		t.Fatal(err)
	}
	// Outside a decorated handler nothing is counted.
	decorator.CountAlertsRaised(context.Background(), 5)
	decorator.CountDelivery(context.Background(), "telegram", "sent")

	want := `
# HELP stockalert_alert_deliveries_total Alert deliveries recorded, by channel (telegram, email, webhook) and state (sent, failed, undeliverable).
# TYPE stockalert_alert_deliveries_total counter
stockalert_alert_deliveries_total{channel="email",state="failed"} 2
stockalert_alert_deliveries_total{channel="telegram",state="sent"} 1
# HELP stockalert_alerts_raised_total Alerts raised by price events and queued for delivery.
# TYPE stockalert_alerts_raised_total counter
stockalert_alerts_raised_total 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"stockalert_alerts_raised_total", "stockalert_alert_deliveries_total"); err != nil {
		t.Fatal(err)
	}
}
