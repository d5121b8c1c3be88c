package kafkaconnector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/segmentio/kafka-go"
)

// DefaultRedriveGroup is the consumer group whose committed offsets mark how far each partition of
// a dead-letter topic has been redriven.
const DefaultRedriveGroup = "kafka-connector-dlq-redrive"

// DeadLetter is one message of a dead-letter topic, with its dlq-* headers read out.
type DeadLetter struct {
	Partition int   // in the dead-letter topic
	Offset    int64 // in the dead-letter topic
	Time      time.Time
	// Redriven reports whether the redrive group's offset is past the message: it was redriven, or
	// a range redrive passed over it.
	Redriven bool

	Topic     string // where it came from (dlq-topic)
	MessageID string // dlq-message-id
	Function  string // dlq-function
	Status    string // dlq-status
	Attempts  string // dlq-attempts
	Error     string // dlq-error

	Key, Value []byte
	Headers    []kafka.Header // its own headers, without the dlq-* ones
}

// DLQRange selects messages of a dead-letter topic. Partition -1 means every partition; From and To
// (inclusive offsets, -1: open) apply to each selected partition.
type DLQRange struct {
	Partition int
	From, To  int64
}

// AllDeadLetters selects every message.
var AllDeadLetters = DLQRange{Partition: -1, From: -1, To: -1}

// DLQAdmin lists and redrives dead-letter topics. Redriving re-publishes a dead letter to the topic
// it came from, with its key, value and headers (minus dlq-*), and then commits the redrive group's
// offset past it, so that redriving again does not publish it twice.
type DLQAdmin struct {
	brokers   []string
	group     string
	client    *kafka.Client
	writer    *kafka.Writer
	transport *kafka.Transport
	// retryFor bounds the retries of one request on retriable broker errors.
	retryFor time.Duration
}

// dlqAdminRetryFor is how long DLQAdmin retries one request the broker answers with a retriable
// error (a group coordinator that is still loading after a broker start takes seconds).
const dlqAdminRetryFor = 30 * time.Second

// NewDLQAdmin returns an admin talking to brokers, keeping its progress in group ("" for
// DefaultRedriveGroup). Close it after use.
func NewDLQAdmin(brokers []string, group string) *DLQAdmin {
	if group == "" {
		group = DefaultRedriveGroup
	}
	transport := &kafka.Transport{ClientID: ConnectorName + "-dlq", DialTimeout: 10 * time.Second, MetadataTTL: time.Second}
	return &DLQAdmin{
		brokers: brokers,
		group:   group,
		client:  &kafka.Client{Addr: kafka.TCP(brokers...), Transport: transport, Timeout: 30 * time.Second},
		writer: &kafka.Writer{Addr: kafka.TCP(brokers...), Balancer: &kafka.Murmur2Balancer{},
			RequiredAcks: kafka.RequireAll, BatchTimeout: 2 * time.Millisecond, Transport: transport},
		transport: transport,
		retryFor:  dlqAdminRetryFor,
	}
}

// Close releases the admin's connections.
func (a *DLQAdmin) Close() error {
	err := a.writer.Close()
	a.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("close dead-letter admin: %w", err)
	}
	return nil
}

// UnknownTopicError is returned by List and Redrive when the dead-letter topic does not exist (the
// broker answers UNKNOWN_TOPIC_OR_PARTITION, error code 3, to its metadata request).
type UnknownTopicError struct{ Topic string }

func (e *UnknownTopicError) Error() string { return "topic " + e.Topic + " does not exist" }

// Unwrap lets errors.Is match kafka-go's UnknownTopicOrPartition.
func (e *UnknownTopicError) Unwrap() error { return kafka.UnknownTopicOrPartition }

// retry runs op until it succeeds, fails with an error that retrying cannot fix, ctx ends or
// a.retryFor has passed. It retries the broker's retriable answers (kafka-go's Error.Temporary: a
// group coordinator still loading or moving, a partition without a leader yet), which a broker gives
// right after it starts or a topic is created; a dial error (no broker) and UNKNOWN_TOPIC_OR_PARTITION
// (no such topic: the admin never creates one) fail at once.
func (a *DLQAdmin) retry(ctx context.Context, op func() error) error {
	var last error
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		err := op()
		last = err
		var kerr kafka.Error
		if err == nil || (errors.As(err, &kerr) && kerr.Temporary() && kerr != kafka.UnknownTopicOrPartition) {
			return struct{}{}, err
		}
		return struct{}{}, backoff.Permanent(err)
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{
		InitialInterval: 50 * time.Millisecond, RandomizationFactor: 0.2, Multiplier: 2, MaxInterval: time.Second,
	}), backoff.WithMaxElapsedTime(a.retryFor))
	if err != nil && ctx.Err() != nil && last != nil && !errors.Is(last, ctx.Err()) {
		return fmt.Errorf("%w (last error: %w)", err, last)
	}
	return err // op's own error, wrapped with its action there
}

// deadLetterTopicOf accepts a topic or its dead-letter topic and returns the dead-letter topic.
func deadLetterTopicOf(topic string) string {
	if strings.HasSuffix(topic, DeadLetterSuffix) {
		return topic
	}
	return DeadLetterTopic(topic)
}

// span is the part of one partition a command works on.
type span struct {
	partition   int
	start, stop int64 // [start, stop)
	committed   int64 // the redrive group's offset; -1 when none
}

// spans returns, per selected partition of dlq, the offsets in r that the partition holds, and the
// group's committed offset.
func (a *DLQAdmin) spans(ctx context.Context, dlq string, r DLQRange) ([]span, error) {
	var meta *kafka.MetadataResponse
	err := a.retry(ctx, func() error {
		var err error
		if meta, err = a.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{dlq}}); err != nil {
			return err // wrapped below, once
		}
		for _, t := range meta.Topics {
			if t.Error != nil {
				return t.Error // wrapped below, once
			}
		}
		return nil
	})
	if errors.Is(err, kafka.UnknownTopicOrPartition) {
		return nil, &UnknownTopicError{Topic: dlq}
	}
	if err != nil {
		return nil, fmt.Errorf("read metadata of %s: %w", dlq, err)
	}
	var parts []int
	for _, t := range meta.Topics {
		for _, p := range t.Partitions {
			if r.Partition < 0 || p.ID == r.Partition {
				parts = append(parts, p.ID)
			}
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("topic %s has no partition %d", dlq, r.Partition)
	}
	slices.Sort(parts)
	reqs := make([]kafka.OffsetRequest, 0, 2*len(parts))
	for _, p := range parts {
		reqs = append(reqs, kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
	}
	var offs *kafka.ListOffsetsResponse
	err = a.retry(ctx, func() error {
		var err error
		if offs, err = a.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{dlq: reqs}}); err != nil {
			return fmt.Errorf("list offsets of %s: %w", dlq, err)
		}
		for _, po := range offs.Topics[dlq] {
			if po.Error != nil {
				return fmt.Errorf("list offsets of %s/%d: %w", dlq, po.Partition, po.Error)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	done := map[int]int64{}
	err = a.retry(ctx, func() error {
		clear(done)
		committed, err := a.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: a.group, Topics: map[string][]int{dlq: parts}})
		if err == nil {
			err = committed.Error
		}
		switch {
		case errors.Is(err, kafka.GroupIdNotFound): // nothing redriven yet
		case err != nil:
			return fmt.Errorf("read the offsets of group %s: %w", a.group, err)
		}
		for _, p := range committed.Topics[dlq] {
			if errors.Is(p.Error, kafka.GroupIdNotFound) {
				continue
			}
			if p.Error != nil {
				return fmt.Errorf("read the offset of group %s on %s/%d: %w", a.group, dlq, p.Partition, p.Error)
			}
			done[p.Partition] = p.CommittedOffset
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []span
	for _, po := range offs.Topics[dlq] {
		s := span{partition: po.Partition, start: po.FirstOffset, stop: po.LastOffset, committed: -1}
		if c, ok := done[po.Partition]; ok {
			s.committed = c
		}
		if r.From >= 0 {
			s.start = max(s.start, r.From)
		}
		if r.To >= 0 {
			s.stop = min(s.stop, r.To+1)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(x, y span) int { return x.partition - y.partition })
	return out, nil
}

// read calls fn for each message of dlq's partition in [start, stop), in order.
func (a *DLQAdmin) read(ctx context.Context, dlq string, s span, fn func(kafka.Message) error) error {
	if s.start >= s.stop {
		return nil
	}
	// A short MaxWait: closing the reader waits for its prefetch past the last message, which the
	// broker holds that long.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: a.brokers, Topic: dlq, Partition: s.partition,
		MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 250 * time.Millisecond, ReadLagInterval: -1})
	defer func() { _ = r.Close() }() // a read-only reader: nothing is lost when closing fails
	if err := r.SetOffset(s.start); err != nil {
		return fmt.Errorf("read %s/%d from %d: %w", dlq, s.partition, s.start, err)
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return fmt.Errorf("read %s/%d: %w", dlq, s.partition, err)
		}
		if m.Offset >= s.stop {
			return nil
		}
		if err := fn(m); err != nil {
			return err
		}
		if m.Offset+1 >= s.stop {
			return nil
		}
	}
}

// List returns the messages of topic's dead-letter topic (topic may name either) that r selects, in
// partition and offset order.
func (a *DLQAdmin) List(ctx context.Context, topic string, r DLQRange) ([]DeadLetter, error) {
	dlq := deadLetterTopicOf(topic)
	spans, err := a.spans(ctx, dlq, r)
	if err != nil {
		return nil, err
	}
	var out []DeadLetter
	for _, s := range spans {
		err := a.read(ctx, dlq, s, func(m kafka.Message) error {
			d := readDeadLetter(m)
			d.Redriven = s.committed >= 0 && m.Offset < s.committed
			out = append(out, d)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readDeadLetter(m kafka.Message) DeadLetter {
	d := DeadLetter{Partition: m.Partition, Offset: m.Offset, Time: m.Time, Key: m.Key, Value: m.Value}
	for _, h := range m.Headers {
		v := string(h.Value)
		switch h.Key {
		case DLQHeaderTopic:
			d.Topic = v
		case DLQHeaderMessageID:
			d.MessageID = v
		case DLQHeaderFunction:
			d.Function = v
		case DLQHeaderStatus:
			d.Status = v
		case DLQHeaderAttempts:
			d.Attempts = v
		case DLQHeaderError:
			d.Error = v
		default:
			if !strings.HasPrefix(h.Key, "dlq-") {
				d.Headers = append(d.Headers, h)
			}
		}
	}
	if d.Topic == "" {
		d.Topic = strings.TrimSuffix(m.Topic, DeadLetterSuffix)
	}
	return d
}

// RedriveResult counts what Redrive did.
type RedriveResult struct {
	Republished int // messages published to their source topic
	Skipped     int // selected messages the redrive group had passed already
}

// Redrive re-publishes the messages of topic's dead-letter topic that r selects and that the redrive
// group has not passed yet to the topic each came from (dlq-topic), with its key, value and headers
// minus dlq-*, partitioned by key as producers do; after each partition's messages are written
// (acks=all), it commits the group's offset past them. Redriving the same range again publishes
// nothing. A crash between the write and the commit publishes them again on the next redrive (at
// least once, like every delivery here). The group's offset is a mark per partition: a range
// redrive moves it past the range, so messages before the range then count as handled too (List
// shows them as redriven; redrive them with an explicit range and another group if needed).
func (a *DLQAdmin) Redrive(ctx context.Context, topic string, r DLQRange) (RedriveResult, error) {
	dlq := deadLetterTopicOf(topic)
	spans, err := a.spans(ctx, dlq, r)
	if err != nil {
		return RedriveResult{}, err
	}
	var res RedriveResult
	for _, s := range spans {
		if s.committed > s.start {
			res.Skipped += int(min(s.committed, s.stop) - s.start)
			s.start = s.committed
		}
		var batch []kafka.Message
		err := a.read(ctx, dlq, s, func(m kafka.Message) error {
			d := readDeadLetter(m)
			batch = append(batch, kafka.Message{Topic: d.Topic, Key: d.Key, Value: d.Value, Headers: d.Headers})
			return nil
		})
		if err != nil {
			return res, err
		}
		if len(batch) == 0 {
			continue
		}
		if err := a.writer.WriteMessages(ctx, batch...); err != nil {
			return res, fmt.Errorf("republish %d messages of %s/%d: %w", len(batch), dlq, s.partition, err)
		}
		res.Republished += len(batch)
		if err := a.commit(ctx, dlq, s.partition, s.stop); err != nil {
			return res, fmt.Errorf("republished %d messages of %s/%d but could not record it (a redrive now would publish them again): %w",
				len(batch), dlq, s.partition, err)
		}
	}
	return res, nil
}

// commit sets the redrive group's offset of dlq/partition to next, as an admin commit (generation
// -1, no member): the group has no live members.
func (a *DLQAdmin) commit(ctx context.Context, dlq string, partition int, next int64) error {
	return a.retry(ctx, func() error { return a.commitOnce(ctx, dlq, partition, next) })
}

func (a *DLQAdmin) commitOnce(ctx context.Context, dlq string, partition int, next int64) error {
	resp, err := a.client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: a.group, GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{dlq: {{Partition: partition, Offset: next}}}})
	if err != nil {
		return fmt.Errorf("commit %s/%d=%d for group %s: %w", dlq, partition, next, a.group, err)
	}
	var errs []error
	for _, ps := range resp.Topics {
		for _, p := range ps {
			if p.Error != nil {
				errs = append(errs, fmt.Errorf("partition %d: %w", p.Partition, p.Error))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("commit %s/%d=%d for group %s: %w", dlq, partition, next, a.group, err)
	}
	return nil
}

// String renders a dead letter's place for logs: dlq-topic/partition/offset.
func (d DeadLetter) String() string {
	return d.Topic + DeadLetterSuffix + "/" + strconv.Itoa(d.Partition) + "/" + strconv.FormatInt(d.Offset, 10)
}
