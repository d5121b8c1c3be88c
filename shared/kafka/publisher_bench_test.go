package kafka_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/kafka"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// BenchmarkPublish measures Publish throughput against kafkatest.Brokers (the embedded three-broker
// cluster, or KAFKA_BROKERS when set) on a topic of three partitions, with 200-byte values and 16
// distinct keys, for calls of 1, 100 and 1000 messages.
func BenchmarkPublish(b *testing.B) {
	for _, batch := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			brokers := kafkatest.Brokers(b)
			topic := kafkatest.Topic(b, "bench")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			if err := kafka.EnsureTopics(ctx, brokers, kafka.TopicSpec{Name: topic, Partitions: 3, ReplicationFactor: 1}); err != nil {
				b.Fatal(err)
			}
			p, err := kafka.NewPublisher(kafka.NewConfig(brokers...), slog.New(slog.DiscardHandler), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				if err := p.Close(); err != nil {
					b.Error(err)
				}
			}()
			value := make([]byte, 200)
			for i := range value {
				value[i] = 'a' + byte(i%26)
			}
			msgs := make([]stockalert.OutboxMessage, batch)
			for i := range msgs {
				msgs[i] = stockalert.OutboxMessage{ID: int64(i), Topic: topic, Key: fmt.Sprintf("key-%d", i%16), Value: value}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.Publish(ctx, msgs...); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
