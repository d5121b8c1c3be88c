// Package decorator wraps command and query handlers with the cross-cutting concerns every use case
// gets exactly once: structured logging and Prometheus metrics. Handlers stay free of both: a handler
// that has something to say about its outcome (how many alerts it raised, a delivery's state) says it
// through Report, and it appears on the decorator's one line for that use case.
package decorator

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// CommandHandler handles a command of type C. Commands change state and return only an error.
type CommandHandler[C any] interface {
	Handle(ctx context.Context, cmd C) error
}

// QueryHandler handles a query of type Q and returns a read model R.
type QueryHandler[Q any, R any] interface {
	Handle(ctx context.Context, q Q) (R, error)
}

// Metrics counts and times handled commands and queries. Create one per process with NewMetrics and
// share it between all handlers.
type Metrics struct {
	duration   *prometheus.HistogramVec
	parked     *prometheus.CounterVec
	raised     prometheus.Counter
	deliveries *prometheus.CounterVec
}

// NewMetrics registers the use-case metrics with reg: stockalert_usecase_duration_seconds,
// stockalert_outbox_parked_total, stockalert_alerts_raised_total and
// stockalert_alert_deliveries_total{channel,state} (the last two counted by handlers through
// CountAlertsRaised and CountDelivery). It returns an error if they are already registered there.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stockalert_usecase_duration_seconds",
			Help:    "Time spent handling commands and queries, by kind, name and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"kind", "name", "outcome"}),
		parked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockalert_outbox_parked_total",
			Help: "Outbox events the broker refused for good, parked for an operator, by topic.",
		}, []string{"topic"}),
		raised: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stockalert_alerts_raised_total",
			Help: "Alerts raised by price events and queued for delivery.",
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockalert_alert_deliveries_total",
			Help: "Alert deliveries recorded, by channel (telegram, email, webhook) and state (sent, failed, undeliverable).",
		}, []string{"channel", "state"}),
	}
	for _, c := range []prometheus.Collector{m.duration, m.parked, m.raised, m.deliveries} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register use-case metrics: %w", err)
		}
	}
	return m, nil
}

// CountParked adds n outbox events of topic to stockalert_outbox_parked_total. A nil Metrics does
// nothing.
func (m *Metrics) CountParked(topic string, n int) {
	if m == nil {
		return
	}
	m.parked.WithLabelValues(topic).Add(float64(n))
}

// ReportingHandler handles a command of type C that also answers what it did as R: an orchestration
// such as the collector's run, whose edge shows its report. It is logged and measured as a command.
type ReportingHandler[C any, R any] interface {
	Handle(ctx context.Context, cmd C) (R, error)
}

// ApplyCommand wraps h with logging and metrics. A nil logger or metrics skips that decorator.
func ApplyCommand[C any](h CommandHandler[C], logger *slog.Logger, m *Metrics) CommandHandler[C] {
	return commandDecorator[C]{base: h, logger: logger, metrics: m}
}

// ApplyQuery wraps h with logging and metrics. A nil logger or metrics skips that decorator.
func ApplyQuery[Q any, R any](h QueryHandler[Q, R], logger *slog.Logger, m *Metrics) QueryHandler[Q, R] {
	return queryDecorator[Q, R]{base: h, logger: logger, metrics: m}
}

// ApplyReporting wraps h with logging and metrics, as ApplyCommand. A nil logger or metrics skips that
// decorator.
func ApplyReporting[C any, R any](h ReportingHandler[C, R], logger *slog.Logger, m *Metrics) ReportingHandler[C, R] {
	return reportingDecorator[C, R]{base: h, logger: logger, metrics: m}
}

type reportingDecorator[C any, R any] struct {
	base    ReportingHandler[C, R]
	logger  *slog.Logger
	metrics *Metrics
}

func (d reportingDecorator[C, R]) Handle(ctx context.Context, cmd C) (R, error) {
	start := time.Now()
	hctx, rep := withReport(ctx, d.metrics)
	r, err := d.base.Handle(hctx, cmd)
	observe(ctx, d.logger, d.metrics, "command", nameOf(cmd), start, err, rep)
	return r, err
}

type commandDecorator[C any] struct {
	base    CommandHandler[C]
	logger  *slog.Logger
	metrics *Metrics
}

func (d commandDecorator[C]) Handle(ctx context.Context, cmd C) error {
	start := time.Now()
	hctx, rep := withReport(ctx, d.metrics)
	err := d.base.Handle(hctx, cmd)
	observe(ctx, d.logger, d.metrics, "command", nameOf(cmd), start, err, rep)
	return err
}

type queryDecorator[Q any, R any] struct {
	base    QueryHandler[Q, R]
	logger  *slog.Logger
	metrics *Metrics
}

func (d queryDecorator[Q, R]) Handle(ctx context.Context, q Q) (R, error) {
	start := time.Now()
	hctx, rep := withReport(ctx, d.metrics)
	r, err := d.base.Handle(hctx, q)
	observe(ctx, d.logger, d.metrics, "query", nameOf(q), start, err, rep)
	return r, err
}

// observe measures one handled use case and writes its one log line: "<kind> handled" at Debug when it
// succeeded, Info when it was rejected, Error when it failed — or, when the handler used Report, its
// message at its level (at least), with its attributes.
func observe(ctx context.Context, logger *slog.Logger, m *Metrics, kind, name string, start time.Time, err error, rep *report) {
	elapsed := time.Since(start)
	outcome := Outcome(err)
	if m != nil {
		m.duration.WithLabelValues(kind, name, outcome).Observe(elapsed.Seconds())
	}
	if logger == nil {
		return
	}
	level := slog.LevelDebug
	switch outcome {
	case "error":
		level = slog.LevelError
	case "rejected":
		level = slog.LevelInfo
	}
	msg := kind + " handled"
	repMsg, repLevel, repAttrs, reported := rep.line()
	if reported {
		msg, level = repMsg, max(level, repLevel)
	}
	attrs := []slog.Attr{slog.String(kind, name), slog.Duration("took", elapsed), slog.String("outcome", outcome)}
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	attrs = append(attrs, repAttrs...)
	logger.LogAttrs(ctx, level, msg, attrs...)
}

// Outcome classifies an error for logs and metrics: "ok", "rejected" (the caller's input or the
// current state refused it: validation, not found, conflict, unauthorized) or "error" (a fault).
func Outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case stockalert.IsClientError(err):
		return "rejected"
	default:
		return "error"
	}
}

func nameOf(v any) string {
	n := fmt.Sprintf("%T", v)
	return n[strings.LastIndexByte(n, '.')+1:]
}
