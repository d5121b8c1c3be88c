package main

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/stockalert/stockalert/kafkaconnector"
	"github.com/stockalert/stockalert/localfaas/stack"
	"github.com/stockalert/stockalert/shared/kafka"
)

// topicsAttempt bounds one try to create the stack's topics (EnsureTopics retries an unreachable broker
// until its context ends).
const topicsAttempt = 3 * time.Second

// ensureTopics creates the stack's topics with partitions partitions (the count the functions would
// give them: stack.TopicPartitions, not the embedded broker's default). When the brokers do not
// answer at once it appends the reason to *desc (the status table's kafka line), logs it, and keeps
// trying in the background with backoff until it succeeds or ctx ends; the returned channel is closed
// then. The run goes on meanwhile: the connector waits for the topics, and the functions' outboxes
// keep what they could not publish.
func ensureTopics(ctx context.Context, brokers, names []string, partitions int32, desc *string, logger *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	topics := make([]kafka.TopicSpec, 0, len(names))
	for _, name := range names {
		topics = append(topics, kafka.TopicSpec{Name: name, Partitions: partitions})
	}
	try := func() error {
		attempt, cancel := context.WithTimeout(ctx, topicsAttempt)
		defer cancel()
		return kafka.EnsureTopics(attempt, brokers, topics...)
	}
	err := try()
	if err == nil || ctx.Err() != nil {
		close(done)
		return done
	}
	*desc += " — unreachable, creating the topics in the background (see the log)"
	logger.Warn("kafka: cannot create the stack's topics; retrying in the background", "brokers", brokers, "err", err)
	go func() {
		defer close(done)
		_, err := backoff.Retry(ctx, func() (struct{}, error) { return struct{}{}, try() },
			backoff.WithBackOff(&backoff.ExponentialBackOff{
				InitialInterval: time.Second, RandomizationFactor: 0.2, Multiplier: 2, MaxInterval: 30 * time.Second,
			}),
			backoff.WithMaxElapsedTime(0),
			backoff.WithNotify(func(err error, next time.Duration) {
				logger.Warn("kafka: cannot create the stack's topics; retrying", "brokers", brokers, "in", next, "err", err)
			}))
		if err == nil {
			logger.Info("kafka: the stack's topics exist", "brokers", brokers)
		}
	}()
	return done
}

// runTopics lists, sorted, every topic of the run for the status table: the stack's topics with their
// dead-letter twins (which localfaas creates) and the retry twins the in-process kafka-connector
// creates for the topics it consumes (kafkaconnector.RetryTopic: <topic>.retry).
func runTopics(st *stack.Stack) []string {
	topics := st.Topics()
	for _, t := range st.ConsumedTopics() {
		topics = append(topics, kafkaconnector.RetryTopic(t))
	}
	sort.Strings(topics)
	return topics
}
