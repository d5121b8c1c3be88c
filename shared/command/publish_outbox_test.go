package command_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/kafka"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

func newKafkaPublisher(t *testing.T, brokers []string) *kafka.Publisher {
	t.Helper()
	p, err := kafka.NewPublisher(kafka.NewConfig(brokers...), slog.New(slog.DiscardHandler), nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	return p
}

// parkedTotal reads stockalert_outbox_parked_total{topic} from reg (0 when absent).
func parkedTotal(t *testing.T, reg *prometheus.Registry, topic string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "stockalert_outbox_parked_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "topic" && l.GetValue() == topic {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// A message the broker can never take (over the topic's max.message.bytes) is parked with its reason,
// counted and named on the use case's line, and the messages queued after it are published, in order.
// Before, PublishOutbox retried the same oldest batch for ever and nothing after the poison went out.
func TestPublishOutboxParksAPoisonMessageAndGoesOn(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	topic := kafkatest.Topic(t, "poison")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, kafka.EnsureTopics(ctx, brokers, kafka.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 1,
		Configs: map[string]string{"max.message.bytes": "1024"}}))
	store := storetest.Open(t)
	require.NoError(t, store.AppendOutbox(ctx,
		stockalert.OutboxMessage{Topic: topic, Key: "AAPL", Value: []byte("first")},
		stockalert.OutboxMessage{Topic: topic, Key: "AAPL", Value: bytes.Repeat([]byte("x"), 4096)},
		stockalert.OutboxMessage{Topic: topic, Key: "MSFT", Value: []byte("second")},
		stockalert.OutboxMessage{Topic: topic, Key: "AAPL", Value: []byte("third")}))

	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	m, err := decorator.NewMetrics(reg)
	require.NoError(t, err)
	publish := command.NewPublishOutboxHandler(store, newKafkaPublisher(t, brokers), slog.New(slog.NewJSONHandler(&logs, nil)), m)
	require.NoError(t, publish.Handle(ctx, command.PublishOutbox{Topic: topic}))

	got := kafkatest.Read(t, brokers, topic, 3, 30*time.Second)
	var values []string
	for _, msg := range got {
		values = append(values, string(msg.Value))
	}
	require.Equal(t, []string{"first", "second", "third"}, values)
	require.EqualValues(t, 3, kafkatest.Size(t, brokers, topic), "nothing else was published")

	pending, err := store.PendingOutbox(ctx, topic, 10)
	require.NoError(t, err)
	require.Empty(t, pending, "the queue is empty")
	parked, err := store.ParkedOutbox(ctx, topic, 10)
	require.NoError(t, err)
	require.Len(t, parked, 1)
	require.Len(t, parked[0].Value, 4096)
	require.Contains(t, parked[0].Reason, "Message Size Too Large")
	require.InDelta(t, 1, parkedTotal(t, reg, topic), 0, "stockalert_outbox_parked_total")

	lines := infoLines(t, &logs)
	require.Len(t, lines, 1, "one line for the use case")
	for k, want := range map[string]any{"level": "WARN", "msg": "outbox events parked", "event": "outbox-parked",
		"command": "PublishOutbox", "outcome": "ok", "topic": topic, "parked": 1.0} {
		require.Equal(t, want, lines[0][k], "%s in %v", k, lines[0])
	}
	require.Contains(t, lines[0]["reason"], "Message Size Too Large")

	// The next run has nothing left to do.
	require.NoError(t, publish.Handle(ctx, command.PublishOutbox{Topic: topic}))
	require.EqualValues(t, 3, kafkatest.Size(t, brokers, topic))
}

// A failure that may heal (here: the topic does not exist and may not be created) keeps the messages
// queued and releases them at once for the next run: nothing is parked.
func TestPublishOutboxKeepsMessagesOnTransientFailures(t *testing.T) {
	brokers := kafkatest.Embedded(t)
	missing := kafkatest.Topic(t, "missing")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store := storetest.Open(t)
	require.NoError(t, store.AppendOutbox(ctx, stockalert.OutboxMessage{Topic: missing, Key: "k", Value: []byte("v")}))
	publish := command.NewPublishOutboxHandler(store, newKafkaPublisher(t, brokers), nil, nil)

	err := publish.Handle(ctx, command.PublishOutbox{Topic: missing})
	require.ErrorContains(t, err, "publish 1 of 1 events to "+missing)
	parked, err := store.ParkedOutbox(ctx, "", 10)
	require.NoError(t, err)
	require.Empty(t, parked)
	again, err := store.ClaimOutbox(ctx, "next-run", missing, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, again, 1, "released for the next run at once")
}

// Several relays at once — goroutines, each with its own publisher, as alert-system's concurrent
// partition handlers and replicas run — publish every queued row once. Before, each relay published
// every pending row it read, and to-notifier held about twice as many messages as alerts.
func TestConcurrentRelaysPublishEachRowOnce(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	topic := kafkatest.Topic(t, "relays")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, kafka.EnsureTopics(ctx, brokers, kafka.TopicSpec{Name: topic, Partitions: 3, ReplicationFactor: 1}))
	store := storetest.Open(t)
	const rows, relays = 600, 5
	msgs := make([]stockalert.OutboxMessage, rows)
	for i := range msgs {
		msgs[i] = stockalert.OutboxMessage{Topic: topic, Key: fmt.Sprintf("user%d@example.com", i%17), Value: fmt.Appendf(nil, "alert-%d", i)}
	}
	require.NoError(t, store.AppendOutbox(ctx, msgs...))

	var wg sync.WaitGroup
	errs := make(chan error, relays)
	for range relays {
		publish := command.NewPublishOutboxHandler(store, newKafkaPublisher(t, brokers), nil, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- publish.Handle(ctx, command.PublishOutbox{Topic: topic, BatchSize: 20})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, rows, kafkatest.Size(t, brokers, topic), "published = rows")
	seen := map[string]bool{}
	for _, m := range kafkatest.Read(t, brokers, topic, rows, 30*time.Second) {
		require.False(t, seen[string(m.Value)], "%s published twice", m.Value)
		seen[string(m.Value)] = true
	}
	require.Zero(t, storetest.Count(t, store.DB(), "outbox", ""))
}
