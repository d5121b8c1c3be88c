// Package kafkatest gives tests a Kafka cluster: the real brokers named by KAFKA_BROKERS when it is set,
// otherwise an embedded kfake cluster on 127.0.0.1 that lives as long as the test.
package kafkatest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultPartitions is the partition count of topics the embedded cluster creates implicitly.
const DefaultPartitions = 3

// Brokers returns bootstrap broker addresses for tb: the comma-separated KAFKA_BROKERS when it is set,
// otherwise those of a new Embedded cluster. Tests that share real brokers must use their own topics
// (see Topic).
func Brokers(tb testing.TB) []string {
	tb.Helper()
	if v := os.Getenv("KAFKA_BROKERS"); strings.TrimSpace(v) != "" {
		var brokers []string
		for _, b := range strings.Split(v, ",") {
			if b = strings.TrimSpace(b); b != "" {
				brokers = append(brokers, b)
			}
		}
		return brokers
	}
	return Embedded(tb)
}

// Embedded starts a kfake cluster of three brokers on 127.0.0.1, whatever KAFKA_BROKERS says, and
// closes it when tb ends. It creates topics on first use (with DefaultPartitions partitions) for
// clients that ask it to; opts add to or override these settings.
func Embedded(tb testing.TB, opts ...kfake.Opt) []string {
	tb.Helper()
	all := append([]kfake.Opt{
		kfake.NumBrokers(3),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(DefaultPartitions),
	}, opts...)
	c, err := kfake.NewCluster(all...)
	if err != nil {
		tb.Fatalf("start embedded kafka: %v", err)
	}
	tb.Cleanup(c.Close)
	return c.ListenAddrs()
}

var topicSeq atomic.Int64

var notTopicChar = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// Topic returns a topic name unique to this test run, built from base and the test's name, for tests
// that share a real cluster.
func Topic(tb testing.TB, base string) string {
	tb.Helper()
	name := fmt.Sprintf("%s.%s.%d-%d", base, notTopicChar.ReplaceAllString(tb.Name(), "_"), os.Getpid(), topicSeq.Add(1))
	if len(name) > 249 { // Kafka's limit
		name = name[len(name)-249:]
	}
	return name
}

// Read consumes the next n messages of topic as a new consumer group starting at the topic's first
// offset, failing tb if they do not arrive within timeout. Use it on topics the test owns.
func Read(tb testing.TB, brokers []string, topic string, n int, timeout time.Duration) []kafkago.Message {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:     brokers,
		Topic:       topic,
		GroupID:     "kafkatest-" + strconv.FormatInt(topicSeq.Add(1), 10) + "-" + strconv.Itoa(os.Getpid()),
		StartOffset: kafkago.FirstOffset,
		MaxWait:     100 * time.Millisecond,
	})
	defer func() {
		if err := r.Close(); err != nil {
			tb.Errorf("close reader of %s: %v", topic, err)
		}
	}()
	out := make([]kafkago.Message, 0, n)
	for len(out) < n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			tb.Fatalf("read %s: got %d of %d messages: %v", topic, len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

// MessageCount returns how many messages topic holds: the sum of its partitions' end offsets (kadm's
// ListEndOffsets, which retries the broker's transient metadata errors until ctx ends). Errors: the
// brokers cannot be reached, or a partition's offset cannot be listed.
func MessageCount(ctx context.Context, brokers []string, topic string) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return 0, fmt.Errorf("count messages of %s: %w", topic, err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("count messages of %s: %w", topic, err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n, nil
}

// Size is MessageCount for a test: it fails tb when the count cannot be had within 20 s.
func Size(tb testing.TB, brokers []string, topic string) int64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := MessageCount(ctx, brokers, topic)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
