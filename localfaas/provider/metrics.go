package provider

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stockalert/stockalert/localfaas/stack"
)

// Metrics are the gateway's Prometheus series, with the names the OpenFaaS gateway gives them, so its
// dashboards work: invocations and their duration by function and status code, and the ready replicas
// of each function.
type Metrics struct {
	invocations *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	// faas-provider's bootstrap.Serve series of the /system routes (see NewRouter).
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
}

// NewMetrics registers the gateway's series with reg; fns gives the replica counts when scraped. It
// fails when a series is registered already.
func NewMetrics(reg prometheus.Registerer, fns Lister) (*Metrics, error) {
	m := &Metrics{
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_function_invocation_total",
			Help: "Function invocations through the gateway, by function and status code.",
		}, []string{"function_name", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_functions_seconds",
			Help:    "Time to serve a function invocation through the gateway.",
			Buckets: prometheus.DefBuckets,
		}, []string{"function_name", "code"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Subsystem: "provider",
			Name:      "http_requests_total",
			Help:      "Total number of HTTP requests.",
		}, []string{"code", "method", "path"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Subsystem: "provider",
			Name:      "http_request_duration_seconds",
			Help:      "Seconds spent serving HTTP requests.",
			Buckets:   prometheus.DefBuckets,
		}, []string{"code", "method", "path"}),
	}
	replicas := replicaCollector{
		fns: fns,
		desc: prometheus.NewDesc("gateway_service_count",
			"Ready replicas (processes) of each function.", []string{"function_name"}, nil),
	}
	for _, c := range []prometheus.Collector{m.invocations, m.duration, m.httpRequests, m.httpDuration, replicas} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("provider: register metrics: %w", err)
		}
	}
	return m, nil
}

// observe counts one invocation. A nil *Metrics counts nothing.
func (m *Metrics) observe(name string, status int, took time.Duration) {
	if m == nil {
		return
	}
	fn, code := name+"."+stack.Namespace, strconv.Itoa(status)
	m.invocations.WithLabelValues(fn, code).Inc()
	m.duration.WithLabelValues(fn, code).Observe(took.Seconds())
}

// replicaCollector reports the ready replicas of every function when scraped.
type replicaCollector struct {
	fns  Lister
	desc *prometheus.Desc
}

func (c replicaCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c replicaCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.fns.Functions() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue,
			float64(st.AvailableReplicas), st.Name+"."+stack.Namespace)
	}
}
