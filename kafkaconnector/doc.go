// Package kafkaconnector is a Kafka connector for OpenFaaS: it consumes Kafka topics and invokes the
// functions subscribed to them through the gateway, at least once, in order per partition, with
// long retries that do not hold up a partition (a retry topic) and a dead-letter topic that an
// operator can list and redrive (DLQAdmin; the program's "dlq" subcommand).
//
// # Use
//
//	cfg, err := kafkaconnector.ConfigFromEnv() // or kafkaconnector.Config{GatewayURL: …, Brokers: …, Topics: …}
//	c, err := kafkaconnector.New(cfg, logger, prometheus.DefaultRegisterer)
//	err = c.Run(ctx) // blocks until ctx is cancelled, then drains and returns nil
//
// The program in cmd/kafka-connector wires this to the environment, signals and a /metrics and
// /healthz listener; the local FaaS runs the same package in-process.
//
// # Behaviour
//
// Functions subscribe with the annotation "topic: a,b". Every rebuild interval the connector lists
// the gateway's namespaces (GET /system/namespaces) and each namespace's functions (GET
// /system/functions?namespace=…) and rebuilds its topic → functions map; consuming starts only after
// the first list was read, so no message is skipped for want of a map. A message is delivered by
// POST /function/<name>.<namespace> with the message value as body and the headers X-Topic,
// X-Connector, X-Kafka-Partition, X-Kafka-Offset, X-Kafka-Key (base64, with X-Kafka-Key-Enc: b64,
// when the key is not printable UTF-8), X-Kafka-<Header> for each message header, and X-Message-Id
// (topic/partition/offset), by which functions can drop duplicates.
//
// A 2xx answer delivers the message. 5xx, 408 and 429 answers, timeouts (upstream_timeout) and
// connection errors are transient: they are retried in place with exponential backoff and jitter,
// retry_attempts attempts in all, honouring a Retry-After on 429 and 503 (RFC 9110 §10.2.3) up to
// retry_max_interval; then the message is parked in <topic>.retry with retry-* headers (the function,
// when it is due, since when it fails, attempts, where it came from) and the offset moves on. The
// connector consumes the retry topics in the same group: a parked message is invoked again, as the
// original, once due, and parked again with the next backoff (or its longer Retry-After) until
// retry_window has passed since its first failed attempt. Then, and at once for any other answer
// (4xx, 3xx), the message is written to <topic>.dlq with dlq-* headers naming the function, status,
// error and attempts, and the offset moves on. When several functions subscribe to a topic, each is invoked and retried on its own, at
// the same time; the message is finished when each has succeeded or been dead-lettered, and a
// function that succeeded is not invoked again while another is retried. A message whose topic has
// no subscriber — even after the gateway is asked again, at most once a second — is logged, counted
// and skipped. The dead-letter topics are created at start when missing, with the broker's default
// partitions and replication; the consumed topics are waited for, or created with
// create_topics=true (with topic_partitions partitions).
//
// # Design: one reader per assigned partition, committed per consumer group generation
//
// A group kafka.Reader interleaves all its partitions into one FetchMessage stream: handing messages
// to per-partition workers either blocks the stream when one worker is slow (head-of-line blocking
// across partitions) or needs unbounded buffers, and the Reader never says when partitions are
// revoked, so a worker could commit a partition it no longer owns. The connector therefore uses
// kafka-go's lower-level kafka.ConsumerGroup. For each generation it starts, per assigned partition,
// a plain kafka.Reader (its own connection and fetch loop) and a worker that does FetchMessage →
// invoke → mark finished, one message at a time. Partitions run in parallel and never wait for each
// other; within a partition the next message is invoked only after the previous one is finished.
//
// Offsets are committed with Generation.CommitOffsets by one committer per generation, which
// coalesces every partition's latest finished offset into one request: at most one commit is in
// flight, and whatever finishes meanwhile goes into the next (commit_interval sets a minimum gap).
// A worker marks an offset only once every earlier message of its partition is finished, so a commit
// never passes an unfinished message.
//
// When the generation ends (a rebalance), fetching stops, in-flight invocations are cancelled and
// their messages abandoned (they are redelivered to the partition's next owner), the finished offsets
// are committed while the generation is still the group's current one, and only then does kafka-go
// rejoin: no partition is committed after it was lost, and no partition is consumed twice by one
// instance. With kafka-go's eager rebalancing every member gives up all its partitions at each
// rebalance, so the new owner starts where the old one committed. When Run's context is cancelled,
// fetching stops, in-flight invocations may finish for shutdown_timeout, the finished offsets are
// committed, and the connector leaves the group.
//
// # Delivery semantics
//
// At least once. A message is redelivered, to every subscribed function, when it was not finished
// before a crash, a shutdown deadline or a rebalance; functions should de-duplicate by X-Message-Id.
// A commit that fails is logged and retried with the next one; a message parked or dead-lettered just
// before a crash may be parked or dead-lettered again. If the retry or dead-letter topic cannot be
// written, the write is retried until it succeeds and the partition waits: its offset never moves
// past a message that is neither delivered, parked nor dead-lettered. A parked message is delivered
// after later messages of its partition: order holds only for messages delivered at their turn.
//
// After a broker restart kafka-go's ConsumerGroup joins again as a new member, and the restarted
// broker would hold the join until the old member's session expired; the connector sends the
// LeaveGroup for its previous member id itself once the broker answers, so the group rejoins at once.
//
// Each assigned partition costs one broker connection and one goroutine; the design suits the tens
// of partitions an OpenFaaS connector usually owns, not thousands.
package kafkaconnector
