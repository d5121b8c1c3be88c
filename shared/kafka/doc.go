// Package kafka is the producer side of the pipeline's Kafka adapter, over segmentio/kafka-go: a
// Publisher that writes outbox messages in one batched, fully acknowledged request per call, keyed with
// the Java client's murmur2 partitioning, and EnsureTopics, which creates topics idempotently.
//
// Delivery is at least once: a Publish that returns an error may still have written some or all of its
// messages, so the caller (an outbox drain) keeps the batch and publishes it again, and consumers drop
// duplicates by event id.
package kafka
