package kafkaconnector

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the connector's Prometheus collectors, all named kafka_connector_*.
type metrics struct {
	consumed        *prometheus.CounterVec   // topic
	invocations     *prometheus.CounterVec   // function, status
	duration        *prometheus.HistogramVec // function
	retries         *prometheus.CounterVec   // function
	deadLettered    *prometheus.CounterVec   // topic, function
	parked          *prometheus.CounterVec   // topic, function
	unrouted        *prometheus.CounterVec   // topic
	lag             *prometheus.GaugeVec     // topic, partition
	subscribed      *prometheus.GaugeVec     // topic
	commitErrors    prometheus.Counter
	discoveryErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns = "kafka_connector"
	m := &metrics{
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns,
			Name: "messages_consumed_total", Help: "Messages fetched from Kafka, by topic."},
			[]string{"topic"}),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns,
			Name: "invocations_total", Help: "Invocation attempts by function and outcome: the HTTP status, timeout or error."},
			[]string{"function", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns,
			Name: "invocation_duration_seconds", Help: "Time from sending an invocation to its answer, by function.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}},
			[]string{"function"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns,
			Name: "retries_total", Help: "Invocations retried after a retryable failure, by function."},
			[]string{"function"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns,
			Name: "dead_lettered_total", Help: "Messages written to the dead-letter topic, by source topic and failed function."},
			[]string{"topic", "function"}),
		parked: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns,
			Name: "parked_total", Help: "Messages written to the retry topic after a retryable failure, by source topic and function."},
			[]string{"topic", "function"}),
		unrouted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns,
			Name: "unrouted_messages_total", Help: "Messages skipped because no function subscribes to their topic."},
			[]string{"topic"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns,
			Name: "lag", Help: "Messages behind the partition's high watermark, as of the last message handled, for partitions this instance owns."},
			[]string{"topic", "partition"}),
		subscribed: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns,
			Name: "subscribed_functions", Help: "Functions subscribed to each consumed topic."},
			[]string{"topic"}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns,
			Name: "commit_errors_total", Help: "Offset commits that failed (their messages may be delivered again)."}),
		discoveryErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns,
			Name: "discovery_errors_total", Help: "Failed reads of the function list from the gateway."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.consumed, m.invocations, m.duration, m.retries, m.deadLettered,
		m.parked, m.unrouted, m.lag, m.subscribed, m.commitErrors, m.discoveryErrors} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register connector metrics (one registry per connector): %w", err)
		}
	}
	return m, nil
}
