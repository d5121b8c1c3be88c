package localfaas

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Broker is an embedded single-broker Kafka (franz-go's kfake) on 127.0.0.1, for running the pipeline
// without a Kafka of one's own.
type Broker struct {
	cluster *kfake.Cluster
}

// BrokerConfig configures the embedded broker.
type BrokerConfig struct {
	// Port to listen on; 0 picks a free one.
	Port int
	// DataDir, when set, keeps topics, messages and consumer offsets there across restarts.
	DataDir string
	// Partitions is the partition count of topics created with -1 partitions (3).
	Partitions int
}

// StartBroker starts the embedded broker.
func StartBroker(cfg BrokerConfig) (*Broker, error) {
	setDefault(&cfg.Partitions, 3)
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.DefaultNumPartitions(cfg.Partitions), kfake.ClusterID("localfaas")}
	if cfg.Port != 0 {
		opts = append(opts, kfake.Ports(cfg.Port))
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka: %w", err)
	}
	return &Broker{cluster: c}, nil
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string { return b.cluster.ListenAddrs()[0] }

// Close stops the broker.
func (b *Broker) Close() { b.cluster.Close() }

// CreateTopics makes sure the topics exist on the brokers (embedded or not), with the brokers' default
// partition count and replication. Topics that exist already are left as they are.
func CreateTopics(ctx context.Context, brokers []string, topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	defer cl.Close()
	res, err := kadm.NewClient(cl).CreateTopics(ctx, -1, -1, nil, topics...)
	if err != nil {
		return fmt.Errorf("create topics on %v: %w", brokers, err)
	}
	var errs []error
	for _, r := range res.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("create topic %s: %w", r.Topic, r.Err))
		}
	}
	return errors.Join(errs...)
}
