package kafka

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/cenkalti/backoff/v5"
	kafkago "github.com/segmentio/kafka-go"
)

// TopicSpec describes a topic to create. Zero (or negative) Partitions or ReplicationFactor leave the
// choice to the brokers' defaults (num.partitions, default.replication.factor).
type TopicSpec struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
	// Configs are topic configs such as "retention.ms"; nil for none.
	Configs map[string]string
}

// TopicSettings are the partition count and replication factor of the topics the functions create.
type TopicSettings struct {
	Partitions        int32 `env:"KAFKA_TOPIC_PARTITIONS" envDefault:"6"`
	ReplicationFactor int16 `env:"KAFKA_TOPIC_REPLICATION" envDefault:"1"`
}

// Specs returns a TopicSpec with these settings for each name.
func (s TopicSettings) Specs(names ...string) []TopicSpec {
	out := make([]TopicSpec, len(names))
	for i, n := range names {
		out[i] = TopicSpec{Name: n, Partitions: s.Partitions, ReplicationFactor: s.ReplicationFactor}
	}
	return out
}

// adminMetadataTTL is how often the admin transport of EnsureTopics re-reads the metadata of its
// topics: the granularity of its wait for partition leaders.
const adminMetadataTTL = 100 * time.Millisecond

// EnsureTopics creates the topics that do not exist yet and waits until every one of them has a
// leader for each partition, so that a publish right after it succeeds. A topic that already exists
// counts as created, whatever its settings, and is not asked for again (so a client that may not
// create topics works with topics made beforehand). It speaks kafka-go only: the metadata of the
// topics from any broker, then one CreateTopics request (kafka-go sends it to the controller, or in
// KRaft to a broker that forwards it).
//
// Errors are kafka-go's (a kafka.Error such as kafka.InvalidReplicationFactor or
// kafka.TopicAuthorizationFailed, wrapped with the topic's name, "create topic <name>") when a
// creation is refused, or the context's error, wrapped with the last failure, when the brokers cannot
// be reached or the topics get no leaders in time. Unreachable brokers and temporary refusals are
// retried until ctx ends: give it a deadline.
func EnsureTopics(ctx context.Context, brokers []string, topics ...TopicSpec) error {
	if len(topics) == 0 {
		return nil
	}
	names := make([]string, len(topics))
	for i, t := range topics {
		if t.Name == "" {
			return errors.New("ensure topics: a topic has no name")
		}
		names[i] = t.Name
	}
	if len(brokers) == 0 {
		return fmt.Errorf("ensure topics %v: no broker address", names)
	}
	// A transport of our own, so that its metadata cache holds only these topics and is refreshed
	// often enough to see the new partitions get their leaders.
	transport := &kafkago.Transport{ClientID: "stockalert-admin", MetadataTTL: adminMetadataTTL, MetadataTopics: names}
	defer transport.CloseIdleConnections()
	a := admin{client: &kafkago.Client{Addr: kafkago.TCP(brokers...), Transport: transport}}

	if err := a.retry(ctx, func() error { return a.create(ctx, topics) }); err != nil {
		return fmt.Errorf("ensure topics %v: %w", names, err)
	}
	// Creation is asynchronous in Kafka: wait until the metadata shows a leader for every partition.
	if err := a.retry(ctx, func() error { return a.leaders(ctx, names) }); err != nil {
		return fmt.Errorf("wait for topics %v: %w", names, err)
	}
	return nil
}

// admin is the kafka-go client of one EnsureTopics call.
type admin struct {
	client *kafkago.Client
}

// retry runs op until it succeeds, fails for good (a backoff.Permanent error) or ctx ends; the
// context's error then says what the last failure was.
func (a admin) retry(ctx context.Context, op func() error) error {
	var last error
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		err := op()
		if err != nil {
			last = err
		}
		return struct{}{}, err
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{
		InitialInterval: 50 * time.Millisecond, RandomizationFactor: 0.2, Multiplier: 2, MaxInterval: time.Second,
	}), backoff.WithMaxElapsedTime(0))
	if err != nil && ctx.Err() != nil && last != nil && !errors.Is(last, ctx.Err()) {
		return fmt.Errorf("%w (last error: %w)", err, last)
	}
	return err
}

// create sends one CreateTopics request for the topics the metadata does not show. Refusals that
// retrying cannot fix are permanent, each naming its topic; the rest are retried.
func (a admin) create(ctx context.Context, topics []TopicSpec) error {
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = t.Name
	}
	existing, err := a.existing(ctx, names)
	if err != nil {
		return err
	}
	req := &kafkago.CreateTopicsRequest{}
	for _, t := range topics {
		if !existing[t.Name] {
			req.Topics = append(req.Topics, topicConfig(t))
		}
	}
	if len(req.Topics) == 0 {
		return nil
	}
	resp, err := a.client.CreateTopics(ctx, req)
	if err != nil {
		var kerr kafkago.Error
		if errors.As(err, &kerr) && !kerr.Temporary() {
			return backoff.Permanent(fmt.Errorf("create topics: %w", err))
		}
		return fmt.Errorf("create topics: %w", err)
	}
	var permanent, temporary []error
	for _, tc := range req.Topics {
		err, ok := resp.Errors[tc.Topic]
		switch {
		case !ok:
			temporary = append(temporary, fmt.Errorf("create topic %s: no answer for it", tc.Topic))
		case err == nil || errors.Is(err, kafkago.TopicAlreadyExists):
		case isTemporary(err):
			temporary = append(temporary, fmt.Errorf("create topic %s: %w", tc.Topic, err))
		default:
			permanent = append(permanent, fmt.Errorf("create topic %s: %w", tc.Topic, err))
		}
	}
	if len(permanent) > 0 {
		return backoff.Permanent(errors.Join(permanent...))
	}
	return errors.Join(temporary...)
}

// existing returns the named topics the metadata shows.
func (a admin) existing(ctx context.Context, names []string) (map[string]bool, error) {
	md, err := a.client.Metadata(ctx, &kafkago.MetadataRequest{Topics: names})
	if err != nil {
		return nil, fmt.Errorf("read topic metadata: %w", err)
	}
	out := make(map[string]bool, len(md.Topics))
	for _, t := range md.Topics {
		if t.Error == nil && len(t.Partitions) > 0 {
			out[t.Name] = true
		}
	}
	return out, nil
}

// leaders fails unless every partition of every named topic has a leader.
func (a admin) leaders(ctx context.Context, names []string) error {
	md, err := a.client.Metadata(ctx, &kafkago.MetadataRequest{Topics: names})
	if err != nil {
		return fmt.Errorf("read topic metadata: %w", err)
	}
	byName := make(map[string]kafkago.Topic, len(md.Topics))
	for _, t := range md.Topics {
		byName[t.Name] = t
	}
	for _, name := range names {
		t, ok := byName[name]
		switch {
		case !ok:
			return fmt.Errorf("topic %s not in metadata yet", name)
		case t.Error != nil:
			return fmt.Errorf("topic %s: %w", name, t.Error)
		case len(t.Partitions) == 0:
			return fmt.Errorf("topic %s has no partitions yet", name)
		}
		for _, p := range t.Partitions {
			// kafka-go reports a partition without a leader with the zero Broker (no host).
			if p.Error != nil || p.Leader.Host == "" {
				return fmt.Errorf("topic %s partition %d has no leader yet", name, p.ID)
			}
		}
	}
	return nil
}

// topicConfig is t as a kafka-go CreateTopics entry; -1 asks for the broker's default.
func topicConfig(t TopicSpec) kafkago.TopicConfig {
	tc := kafkago.TopicConfig{Topic: t.Name, NumPartitions: int(t.Partitions), ReplicationFactor: int(t.ReplicationFactor)}
	if tc.NumPartitions <= 0 {
		tc.NumPartitions = -1
	}
	if tc.ReplicationFactor <= 0 {
		tc.ReplicationFactor = -1
	}
	for _, k := range slices.Sorted(maps.Keys(t.Configs)) {
		tc.ConfigEntries = append(tc.ConfigEntries, kafkago.ConfigEntry{ConfigName: k, ConfigValue: t.Configs[k]})
	}
	return tc
}

// isTemporary reports whether err is a Kafka error code that retrying may clear (the controller
// moving, a request timing out).
func isTemporary(err error) bool {
	var kerr kafkago.Error
	return errors.As(err, &kerr) && kerr.Temporary()
}
