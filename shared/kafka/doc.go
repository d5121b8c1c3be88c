// Package kafka is the pipeline's Kafka adapter on the producing side, and its one place that
// creates topics. It speaks segmentio/kafka-go only — no other Kafka client is linked:
//
//   - Publisher writes outbox messages in one batched, fully acknowledged request per call, keyed with
//     the Java client's murmur2 partitioning (kafka.Murmur2Balancer).
//   - EnsureTopics creates missing topics (kafka-go's Metadata and CreateTopics), counts an existing
//     topic as created and waits until every partition has a leader. The publisher, the Kafka
//     connector (its dead-letter topics and, with create_topics, its consumed topics) and the local
//     FaaS all create topics through it.
//
// Errors are kafka-go's (kafka.Error codes, kafka.WriteErrors), wrapped with the action and the topic.
//
// Delivery is at least once: a Publish that returns an error may still have written some or all of its
// messages, so the caller (an outbox drain) keeps the batch and publishes it again, and consumers drop
// duplicates by event id.
package kafka
