package kafkatest_test

import (
	"context"
	"net"
	"regexp"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
)

func TestBrokersFromEnv(t *testing.T) {
	t.Setenv("KAFKA_BROKERS", " 10.0.0.1:9092 ,10.0.0.2:9092,")
	got := kafkatest.Brokers(t)
	if len(got) != 2 || got[0] != "10.0.0.1:9092" || got[1] != "10.0.0.2:9092" {
		t.Fatalf("Brokers = %q", got)
	}
}

func TestEmbeddedAutoCreatesTopicsOnLoopback(t *testing.T) {
	t.Setenv("KAFKA_BROKERS", "")
	brokers := kafkatest.Brokers(t)
	if len(brokers) != 3 {
		t.Fatalf("Brokers = %q, want three embedded brokers", brokers)
	}
	for _, b := range brokers {
		host, _, err := net.SplitHostPort(b)
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("broker %q is not on 127.0.0.1", b)
		}
	}
	topic := kafkatest.Topic(t, "auto")
	w := &kafkago.Writer{Addr: kafkago.TCP(brokers...), AllowAutoTopicCreation: true, BatchTimeout: time.Millisecond}
	defer func() {
		if err := w.Close(); err != nil {
			t.Errorf("close writer: %v", err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, kafkago.Message{Topic: topic, Value: []byte("x")}); err != nil {
		t.Fatalf("write to an implicitly created topic: %v", err)
	}
	conn, err := kafkago.DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := conn.Close(); err != nil {
			t.Errorf("close connection: %v", err)
		}
	}()
	parts, err := conn.ReadPartitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != kafkatest.DefaultPartitions {
		t.Fatalf("auto-created topic has %d partitions, want %d", len(parts), kafkatest.DefaultPartitions)
	}
}

func TestTopicNamesAreUniqueAndValid(t *testing.T) {
	valid := regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)
	a, b := kafkatest.Topic(t, "prices"), kafkatest.Topic(t, "prices")
	if a == b {
		t.Fatalf("Topic returned %q twice", a)
	}
	for _, name := range []string{a, b} {
		if !valid.MatchString(name) {
			t.Errorf("%q is not a valid topic name", name)
		}
	}
}
