package localfaas

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the provider's Prometheus series. The invocation series carry the names the OpenFaaS
// gateway gives them, so its dashboards work.
type metrics struct {
	provider    *Provider
	invocations *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	restarts    *prometheus.CounterVec
	coldStart   prometheus.Histogram
	replicas    *prometheus.Desc
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_function_invocation_total",
			Help: "Function invocations through the gateway, by function and status code.",
		}, []string{"function_name", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_functions_seconds",
			Help:    "Time to serve a function invocation through the gateway.",
			Buckets: prometheus.DefBuckets,
		}, []string{"function_name", "code"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "localfaas_function_restarts_total",
			Help: "Function processes restarted after they exited on their own.",
		}, []string{"function_name"}),
		coldStart: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "localfaas_function_cold_start_seconds",
			Help:    "Time from starting a function process to its first healthy /_/health.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		replicas: prometheus.NewDesc("gateway_service_count",
			"Ready replicas (processes) of each function.", []string{"function_name"}, nil),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.invocations, m.duration, m.restarts, m.coldStart, replicaCollector{m}} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("localfaas: register metrics: %w", err)
		}
	}
	return m, nil
}

// replicaCollector reports the ready replicas of every function when scraped.
type replicaCollector struct{ m *metrics }

func (c replicaCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.m.replicas }

func (c replicaCollector) Collect(ch chan<- prometheus.Metric) {
	if c.m.provider == nil {
		return
	}
	for _, st := range c.m.provider.Functions() {
		ch <- prometheus.MustNewConstMetric(c.m.replicas, prometheus.GaugeValue,
			float64(st.AvailableReplicas), st.Name+"."+Namespace)
	}
}
