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
	single    *kafkago.Writer // one message per batch: the verdict on a message refused in a batch
	transport *kafkago.Transport
	metrics   *publishMetrics
	logger    *slog.Logger
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
	single := &kafkago.Writer{
		Addr: w.Addr, Balancer: w.Balancer, RequiredAcks: w.RequiredAcks, MaxAttempts: w.MaxAttempts,
		BatchSize: 1, BatchTimeout: time.Millisecond, WriteTimeout: w.WriteTimeout, ReadTimeout: w.ReadTimeout,
		AllowAutoTopicCreation: w.AllowAutoTopicCreation, Transport: transport, ErrorLogger: w.ErrorLogger,
	}
	maxWait := time.Duration(cfg.MaxAttempts) * (cfg.WriteTimeout + time.Second)
	return &Publisher{w: w, single: single, transport: transport, metrics: m, logger: logger, maxWait: maxWait, brokers: cfg.Brokers}, nil
}

// Publish writes msgs, each to its Topic with its Key, in one batched call that waits for every
// in-sync replica to acknowledge. Messages with the same key go to the same partition (murmur2, as the
// Java client does) and keep their order there; a message with an empty key goes to any partition.
//
// It waits at most KAFKA_MAX_ATTEMPTS × (KAFKA_WRITE_TIMEOUT + 1s), or until ctx's deadline when that
// is sooner, so that a broker that accepts connections and never answers cannot block the caller for
// ever.
//
// It returns nil only when every message was acknowledged. Otherwise the error wraps a
// stockalert.PublishErrors with one entry per message of msgs (nil for each one acknowledged), except
// when the topics could not be ensured (see EnsureTopicsFirst), which fails the whole call. An entry
// wrapping stockalert.ErrUnpublishable can never succeed: a message without a topic (not sent), one
// over the producer's batch limit (kafka-go's MessageTooLargeError, not sent), or one the broker
// refused with MESSAGE_TOO_LARGE (its max.message.bytes), RECORD_LIST_TOO_LARGE, INVALID_TOPIC_EXCEPTION
// or INVALID_RECORD (Kafka protocol error codes 10, 18, 17, 87). The broker checks sizes per record
// batch, so a message refused for good in a batch with others is published again on its own (one
// message per batch) and only a refusal of it alone counts. Any other entry (the context ending,
// UNKNOWN_TOPIC_OR_PARTITION, a leader moving, an unreachable broker) may succeed when published
// again; some messages may have been written already (at-least-once).
//
// TOPIC_AUTHORIZATION_FAILED (code 29) is one of those: an ACL that is missing, or not propagated to
// every broker yet, is an operator's mistake that is fixed without touching the messages, so they stay
// queued. Each Publish that meets it logs one ERROR line per topic ("event":"kafka-not-authorised",
// naming the topic and saying to grant WRITE on it) and counts the messages as
// kafka_publish_messages_total{result="unauthorised"}.
func (p *Publisher) Publish(ctx context.Context, msgs ...stockalert.OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	errs := make([]error, len(msgs))
	send := make([]kafkago.Message, 0, len(msgs))
	for i, m := range msgs {
		if m.Topic == "" {
			errs[i] = fmt.Errorf("outbox message %d: no topic: %w", m.ID, stockalert.ErrUnpublishable)
			continue
		}
		var key []byte
		if m.Key != "" {
			key = []byte(m.Key)
		}
		send = append(send, kafkago.Message{Topic: m.Topic, Key: key, Value: m.Value, WriterData: i})
	}

	ctx, cancel := context.WithTimeout(ctx, p.maxWait) // or ctx's own deadline, when sooner
	defer cancel()
	if len(send) > 0 {
		if err := p.ensureTopics(ctx); err != nil {
			return fmt.Errorf("publish %d messages to %s: %w", len(msgs), topicList(msgs), err)
		}
	}
	start := time.Now()
	refused := write(ctx, p.w, send, errs)
	if len(send) > 1 {
		// A refusal may be a batch's, not the message's: ask again for each one on its own.
		for _, m := range refused {
			write(ctx, p.single, []kafkago.Message{m}, errs)
		}
	}
	p.metrics.observe(msgs, errs, time.Since(start))
	p.reportUnauthorised(ctx, msgs, errs)
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("publish %d messages to %s: %w", len(msgs), topicList(msgs), stockalert.PublishErrors(errs))
		}
	}
	return nil
}

// write sends msgs with w, setting errs[i] for each message that failed (i is the message's
// WriterData), and returns the messages the broker refused for good.
func write(ctx context.Context, w *kafkago.Writer, msgs []kafkago.Message, errs []error) (refused []kafkago.Message) {
	for _, m := range msgs {
		errs[m.WriterData.(int)] = nil
	}
	for len(msgs) > 0 {
		err := w.WriteMessages(ctx, msgs...)
		if err == nil {
			return refused
		}
		// kafka-go checks sizes before sending and names the first message over the limit; the rest
		// are sent again without it.
		var tooLarge kafkago.MessageTooLargeError
		if errors.As(err, &tooLarge) {
			m := tooLarge.Message
			errs[m.WriterData.(int)] = fmt.Errorf("%w: %d bytes of key and value, over the producer's batch limit: %w",
				stockalert.ErrUnpublishable, len(m.Key)+len(m.Value), err)
			msgs = tooLarge.Remaining
			continue
		}
		var werrs kafkago.WriteErrors
		perMessage := errors.As(err, &werrs) && len(werrs) == len(msgs)
		for j, m := range msgs {
			e := err
			if perMessage {
				e = werrs[j]
			}
			if e == nil {
				continue
			}
			if neverSucceeds(e) {
				e = fmt.Errorf("%w: %w", stockalert.ErrUnpublishable, e)
				refused = append(refused, m)
			}
			errs[m.WriterData.(int)] = e
		}
		return refused
	}
	return refused
}

// reportUnauthorised logs one ERROR line for each topic the broker refused to let us write to.
func (p *Publisher) reportUnauthorised(ctx context.Context, msgs []stockalert.OutboxMessage, errs []error) {
	counts := map[string]int{}
	var topics []string
	for i, err := range errs {
		if errors.Is(err, kafkago.TopicAuthorizationFailed) {
			if counts[msgs[i].Topic] == 0 {
				topics = append(topics, msgs[i].Topic)
			}
			counts[msgs[i].Topic]++
		}
	}
	for _, topic := range topics {
		p.logger.ErrorContext(ctx, "kafka: not authorised to write to the topic (TOPIC_AUTHORIZATION_FAILED): "+
			"fix the ACL — grant this client WRITE on the topic; its messages stay queued and go out once it is fixed",
			"event", "kafka-not-authorised", "topic", topic, "messages", counts[topic])
	}
}

// neverSucceeds reports whether the broker refused a message in a way that retrying cannot heal. An
// authorisation failure is not one: fixing the ACL heals it.
func neverSucceeds(err error) bool {
	for _, code := range []kafkago.Error{
		kafkago.MessageSizeTooLarge, kafkago.RecordListTooLarge, kafkago.InvalidTopic, kafkago.InvalidRecord,
	} {
		if errors.Is(err, code) {
			return true
		}
	}
	return false
}

// Close sends the messages still buffered, waits for them, and closes the broker connections. It
// returns the writer's error; Publish fails after Close.
func (p *Publisher) Close() error {
	err := errors.Join(p.w.Close(), p.single.Close())
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
			Help: "Messages passed to Publish, by topic and result: ok, error (may succeed when published again), unauthorised (no WRITE on the topic: fix the ACL; kept queued) or unpublishable (refused for good).",
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

func (m *publishMetrics) observe(msgs []stockalert.OutboxMessage, errs []error, d time.Duration) {
	m.duration.Observe(d.Seconds())
	for i, msg := range msgs {
		result := "ok"
		switch {
		case errors.Is(errs[i], stockalert.ErrUnpublishable):
			result = "unpublishable"
		case errors.Is(errs[i], kafkago.TopicAuthorizationFailed):
			result = "unauthorised"
		case errs[i] != nil:
			result = "error"
		}
		m.messages.WithLabelValues(msg.Topic, result).Inc()
	}
}
