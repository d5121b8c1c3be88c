package kafkaconnector

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// DeadLetterSuffix names a topic's dead-letter topic: <topic>.dlq.
const DeadLetterSuffix = ".dlq"

// DeadLetterTopic returns the dead-letter topic of topic.
func DeadLetterTopic(topic string) string { return topic + DeadLetterSuffix }

// Headers of a dead-lettered message. Its key, value and own headers are kept (except dlq-* headers
// from an earlier trip through a dead-letter topic); these are added.
const (
	DLQHeaderFunction  = "dlq-function"   // the function that failed: name.namespace
	DLQHeaderStatus    = "dlq-status"     // its last HTTP status; 0 when it never answered
	DLQHeaderError     = "dlq-error"      // the last error, at most 1 KiB
	DLQHeaderAttempts  = "dlq-attempts"   // attempts made
	DLQHeaderTopic     = "dlq-topic"      // where the message came from
	DLQHeaderPartition = "dlq-partition"  //
	DLQHeaderOffset    = "dlq-offset"     //
	DLQHeaderMessageID = "dlq-message-id" // X-Message-Id of the failed invocations
)

// failure is why a message is dead-lettered for a function.
type failure struct {
	Function Function
	Status   int
	Attempts int
	Err      error
}

// deadLetters writes to the dead-letter topics.
type deadLetters struct {
	w       *kafka.Writer
	retry   retryPolicy // without an attempt limit
	metrics *metrics
	log     *slog.Logger
}

// Publish writes m with f's headers to m's dead-letter topic. Kafka errors are retried until the
// write succeeds or ctx ends, because the offset may only move on once the message is safe; the
// error returned is then ctx's.
func (d *deadLetters) Publish(ctx context.Context, m kafka.Message, f failure) error {
	dl := deadLetter(m, f)
	_, err := d.retry.do(ctx, func() error {
		if err := d.w.WriteMessages(ctx, dl); err != nil {
			if ctx.Err() != nil {
				return err
			}
			return transient{err}
		}
		return nil
	}, func(err error, wait time.Duration) {
		d.log.Error("write to dead-letter topic failed; retrying (the partition waits)", "topic", dl.Topic,
			"message_id", MessageID(m), "err", err, "wait", wait)
	})
	if err != nil {
		return fmt.Errorf("write %s to %s: %w", MessageID(m), dl.Topic, err)
	}
	d.metrics.deadLettered.WithLabelValues(m.Topic, f.Function.String()).Inc()
	return nil
}

func deadLetter(m kafka.Message, f failure) kafka.Message {
	headers := make([]kafka.Header, 0, len(m.Headers)+8)
	for _, h := range m.Headers {
		if !strings.HasPrefix(h.Key, "dlq-") {
			headers = append(headers, h)
		}
	}
	text := errorText(f.Err)
	add := func(k, v string) { headers = append(headers, kafka.Header{Key: k, Value: []byte(v)}) }
	add(DLQHeaderFunction, f.Function.String())
	add(DLQHeaderStatus, strconv.Itoa(f.Status))
	add(DLQHeaderError, text)
	add(DLQHeaderAttempts, strconv.Itoa(f.Attempts))
	add(DLQHeaderTopic, m.Topic)
	add(DLQHeaderPartition, strconv.Itoa(m.Partition))
	add(DLQHeaderOffset, strconv.FormatInt(m.Offset, 10))
	add(DLQHeaderMessageID, MessageID(m))
	return kafka.Message{Topic: DeadLetterTopic(m.Topic), Key: m.Key, Value: m.Value, Headers: headers}
}

// transient marks an error worth retrying.
type transient struct{ error }

func (t transient) Retryable() bool { return true }
func (t transient) Unwrap() error   { return t.error }
