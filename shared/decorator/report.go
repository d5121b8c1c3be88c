package decorator

import (
	"context"
	"log/slog"
	"sync"
)

// reportKey is the context key of the report the logging decorator reads after its handler returns.
type reportKey struct{}

// report is what a handler said about its outcome through Report.
type report struct {
	metrics *Metrics // nil when the decorator measures nothing
	mu      sync.Mutex
	set     bool
	level   slog.Level
	msg     string
	attrs   []slog.Attr
}

// withReport returns ctx carrying a fresh report for the handler about to run. Each decorated handler
// gets its own, so a use case nested in another reports to its own line.
func withReport(ctx context.Context, m *Metrics) (context.Context, *report) {
	r := &report{metrics: m}
	return context.WithValue(ctx, reportKey{}, r), r
}

// Report lets the use case handling ctx say what it did on the one line the logging decorator writes
// for it, instead of logging a line of its own: msg replaces "command handled" (or "query handled"),
// the line is written at level at least (a failure still logs at Error), and attrs follow the
// decorator's own attributes (the use case's name, took, outcome, err). Give a line that a person
// running the pipeline should see the attribute event (slog.String("event", "alerts-raised")): the
// local FaaS console shows such lines. A later call replaces msg and level and adds its attrs. It is safe for concurrent use. Outside
// a handler wrapped by ApplyCommand, ApplyQuery or ApplyReporting it does nothing.
func Report(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	r, ok := ctx.Value(reportKey{}).(*report)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.set, r.level, r.msg = true, level, msg
	r.attrs = append(r.attrs, attrs...)
}

// line returns the message, minimum level and attributes reported; ok is false when nothing was.
func (r *report) line() (msg string, level slog.Level, attrs []slog.Attr, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msg, r.level, r.attrs, r.set
}

// CountAlertsRaised adds n alerts to stockalert_alerts_raised_total: the use case handling ctx queued
// them for delivery. Outside a decorated handler, or when its decorator measures nothing, it does nothing.
func CountAlertsRaised(ctx context.Context, n int) {
	if r, ok := ctx.Value(reportKey{}).(*report); ok && r.metrics != nil && n > 0 {
		r.metrics.raised.Add(float64(n))
	}
}

// CountDelivery adds one to stockalert_alert_deliveries_total{channel, state}: the use case handling
// ctx recorded an alert's (or a quiet-hours summary's) delivery over channel (telegram, email, webhook) in its final or retryable
// state (sent, failed, undeliverable). Outside a decorated handler, or when its decorator measures
// nothing, it does nothing.
func CountDelivery(ctx context.Context, channel, state string) {
	if r, ok := ctx.Value(reportKey{}).(*report); ok && r.metrics != nil {
		r.metrics.deliveries.WithLabelValues(channel, state).Inc()
	}
}
