package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TopicSpec describes a topic to create. Zero Partitions or ReplicationFactor leave the choice to the
// brokers' defaults (num.partitions, default.replication.factor).
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

// EnsureTopics creates the topics that do not exist yet, through the cluster's controller, and waits
// until every one of them has a leader for each partition, so that a publish right after it succeeds.
// A topic that already exists counts as created, whatever its settings. It returns an error naming the
// topic when a creation is refused (a bad name, a replication factor above the number of brokers, no
// authorisation) and the context's error, wrapped, when the brokers cannot be reached in time.
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
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID("stockalert-admin"))
	if err != nil {
		return fmt.Errorf("ensure topics %v: %w", names, err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	for _, t := range topics {
		partitions, rf := t.Partitions, t.ReplicationFactor
		if partitions <= 0 {
			partitions = -1
		}
		if rf <= 0 {
			rf = -1
		}
		var configs map[string]*string
		if len(t.Configs) > 0 {
			configs = make(map[string]*string, len(t.Configs))
			for k, v := range t.Configs {
				configs[k] = &v
			}
		}
		res, err := adm.CreateTopic(ctx, partitions, rf, configs, t.Name)
		if err == nil {
			err = res.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", t.Name, err)
		}
	}

	// Creation is asynchronous in Kafka: wait until the metadata shows a leader for every partition.
	_, err = backoff.Retry(ctx, func() (struct{}, error) {
		md, err := adm.Metadata(ctx, names...)
		if err != nil {
			return struct{}{}, err
		}
		for _, name := range names {
			td, ok := md.Topics[name]
			switch {
			case !ok:
				return struct{}{}, fmt.Errorf("topic %s not in metadata yet", name)
			case td.Err != nil:
				return struct{}{}, fmt.Errorf("topic %s: %w", name, td.Err)
			case len(td.Partitions) == 0:
				return struct{}{}, fmt.Errorf("topic %s has no partitions yet", name)
			}
			for _, p := range td.Partitions {
				if p.Leader < 0 || p.Err != nil {
					return struct{}{}, fmt.Errorf("topic %s partition %d has no leader yet", name, p.Partition)
				}
			}
		}
		return struct{}{}, nil
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{
		InitialInterval: 50 * time.Millisecond, RandomizationFactor: 0.2, Multiplier: 2, MaxInterval: time.Second,
	}), backoff.WithMaxElapsedTime(0))
	if err != nil {
		return fmt.Errorf("wait for topics %v: %w", names, err)
	}
	return nil
}
