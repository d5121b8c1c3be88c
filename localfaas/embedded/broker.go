// Package embedded is the infrastructure localfaas brings up itself when none is given: a single-broker
// Kafka (franz-go's kfake) on 127.0.0.1 that keeps its data in a folder across runs. Topics are created
// on it the shared way (shared/kafka.EnsureTopics), as on any other broker.
package embedded

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Broker is an embedded single-broker Kafka on 127.0.0.1, for running the pipeline without a Kafka of
// one's own.
type Broker struct {
	cluster *kfake.Cluster
}

// BrokerConfig configures the embedded broker.
type BrokerConfig struct {
	// Port to listen on; 0 picks a free one.
	Port int
	// DataDir, when set, keeps topics, messages and consumer offsets there across restarts.
	DataDir string
	// Partitions is the partition count of topics created without one (3).
	Partitions int
}

// StartBroker starts the embedded broker. Its error says why the broker could not start (most likely
// the port is taken or the data folder cannot be read).
func StartBroker(cfg BrokerConfig) (*Broker, error) {
	if cfg.Partitions == 0 {
		cfg.Partitions = 3
	}
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
