package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// Publisher writes outbox messages to Kafka. It is safe for concurrent use and meant to live as long as
// the process: it keeps its broker connections and cached metadata between calls.
type Publisher struct {
	w         *kafkago.Writer
	transport *kafkago.Transport
	metrics   *publishMetrics
	// maxWait bounds a Publish whose context has no deadline.
	maxWait time.Duration

	brokers  []string
	ensureMu sync.Mutex
	ensure   []TopicSpec // topics to create before the first successful publish; nil once done
}

// EnsureTopicsFirst makes the publisher create specs (see EnsureTopics) before its first Publish, and
// again before each later one until that succeeds. Unlike calling EnsureTopics at start, this lets a
// process start while Kafka is down.
func (p *Publisher) EnsureTopicsFirst(specs ...TopicSpec) {
	p.ensureMu.Lock()
	defer p.ensureMu.Unlock()
	p.ensure = append(p.ensure, specs...)
}

func (p *Publisher) ensureTopics(ctx context.Context) error {
	p.ensureMu.Lock()
	defer p.ensureMu.Unlock()
	if len(p.ensure) == 0 {
		return nil
	}
	if err := EnsureTopics(ctx, p.brokers, p.ensure...); err != nil {
		return err
	}
	p.ensure = nil
	return nil
}

// NewPublisher returns a Publisher for cfg. It connects lazily, on the first Publish. It registers the
// metrics kafka_publish_messages_total{topic,result} and kafka_publish_duration_seconds on reg unless
// reg is nil, and fails when cfg is invalid or registration fails.
func NewPublisher(cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Publisher, error) {
	cfg, err := cfg.normalised()
	if err != nil {
		return nil, err
	}
	m, err := newPublishMetrics(reg)
	if err != nil {
		return nil, err
	}
	transport := &kafkago.Transport{
		ClientID:    cfg.ClientID,
		DialTimeout: cfg.WriteTimeout,
	}
	w := &kafkago.Writer{
		Addr:                   kafkago.TCP(cfg.Brokers...),
		Balancer:               &kafkago.Murmur2Balancer{},
		RequiredAcks:           kafkago.RequireAll,
		MaxAttempts:            cfg.MaxAttempts,
		BatchSize:              cfg.BatchSize,
		BatchTimeout:           cfg.BatchTimeout,
		WriteTimeout:           cfg.WriteTimeout,
		ReadTimeout:            cfg.WriteTimeout,
		AllowAutoTopicCreation: cfg.AllowAutoTopicCreation,
		Transport:              transport,
		ErrorLogger: kafkago.LoggerFunc(func(msg string, args ...any) {
			logger.Warn(fmt.Sprintf(msg, args...), slog.String("component", "kafka-writer"))
		}),
	}
	maxWait := time.Duration(cfg.MaxAttempts) * (cfg.WriteTimeout + time.Second)
	return &Publisher{w: w, transport: transport, metrics: m, maxWait: maxWait, brokers: cfg.Brokers}, nil
}

// Publish writes msgs, each to its Topic with its Key, in one batched call that waits for every
// in-sync replica to acknowledge. Messages with the same key go to the same partition (murmur2, as the
// Java client does) and keep their order there; a message with an empty key goes to any partition.
//
// A context without a deadline gets one of KAFKA_MAX_ATTEMPTS × (KAFKA_WRITE_TIMEOUT + 1s), so that a
// broker that accepts connections and never answers cannot block the caller for ever.
//
// It returns nil only when every message was acknowledged. Any error means the batch must be published
// again: some messages may have been written already (at-least-once delivery). Errors: a message without
// a topic (nothing is sent); the context ending (the writes already handed to kafka-go may still
// complete); a kafka-go error such as kafka.UnknownTopicOrPartition or kafka.MessageTooLargeError
// (a message over the batch size limit can never succeed: the caller should park it); or, when only
// some messages failed, an error wrapping kafka.WriteErrors with one entry per message.
func (p *Publisher) Publish(ctx context.Context, msgs ...stockalert.OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	kmsgs := make([]kafkago.Message, len(msgs))
	for i, m := range msgs {
		if m.Topic == "" {
			return fmt.Errorf("publish outbox message %d: no topic", m.ID)
		}
		var key []byte
		if m.Key != "" {
			key = []byte(m.Key)
		}
		kmsgs[i] = kafkago.Message{Topic: m.Topic, Key: key, Value: m.Value}
	}

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.maxWait)
		defer cancel()
	}
	if err := p.ensureTopics(ctx); err != nil {
		return fmt.Errorf("publish %d messages to %s: %w", len(msgs), topicList(msgs), err)
	}
	start := time.Now()
	err := p.w.WriteMessages(ctx, kmsgs...)
	p.metrics.observe(msgs, err, time.Since(start))
	if err == nil {
		return nil
	}
	var werrs kafkago.WriteErrors
	if errors.As(err, &werrs) {
		var first error
		for _, e := range werrs {
			if e != nil {
				first = e
				break
			}
		}
		return fmt.Errorf("publish %d messages: %d failed, the first with %w: %w", len(msgs), werrs.Count(), first, err)
	}
	return fmt.Errorf("publish %d messages to %s: %w", len(msgs), topicList(msgs), err)
}

// Close sends the messages still buffered, waits for them, and closes the broker connections. It
// returns the writer's error; Publish fails after Close.
func (p *Publisher) Close() error {
	err := p.w.Close()
	p.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("close kafka publisher: %w", err)
	}
	return nil
}

func topicList(msgs []stockalert.OutboxMessage) string {
	seen := map[string]bool{}
	var list string
	for _, m := range msgs {
		if !seen[m.Topic] {
			if list != "" {
				list += ","
			}
			list += m.Topic
			seen[m.Topic] = true
		}
	}
	return list
}

// publishMetrics counts published messages by topic and outcome and times Publish calls.
type publishMetrics struct {
	messages *prometheus.CounterVec
	duration prometheus.Histogram
}

func newPublishMetrics(reg prometheus.Registerer) (*publishMetrics, error) {
	m := &publishMetrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_publish_messages_total",
			Help: "Messages passed to Publish, by topic and result (ok or error).",
		}, []string{"topic", "result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kafka_publish_duration_seconds",
			Help:    "Time of one Publish call, acknowledgements included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.messages, m.duration} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register kafka publish metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *publishMetrics) observe(msgs []stockalert.OutboxMessage, err error, d time.Duration) {
	m.duration.Observe(d.Seconds())
	var werrs kafkago.WriteErrors
	partial := errors.As(err, &werrs) && len(werrs) == len(msgs)
	for i, msg := range msgs {
		result := "ok"
		if err != nil && (!partial || werrs[i] != nil) {
			result = "error"
		}
		m.messages.WithLabelValues(msg.Topic, result).Inc()
	}
}
