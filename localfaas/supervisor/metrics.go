package supervisor

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the supervisor's Prometheus series.
type metrics struct {
	restarts  *prometheus.CounterVec
	coldStart prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "localfaas_function_restarts_total",
			Help: "Function processes restarted after they exited on their own.",
		}, []string{"function_name"}),
		coldStart: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "localfaas_function_cold_start_seconds",
			Help:    "Time from starting a function process to its first healthy /_/health.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.restarts, m.coldStart} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("supervisor: register metrics: %w", err)
		}
	}
	return m, nil
}
