package kafka_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/stockalert/stockalert/internal/logcapture"
	"github.com/stockalert/stockalert/shared/deadport"
	"github.com/stockalert/stockalert/shared/kafka"
	"github.com/stockalert/stockalert/shared/kafka/kafkatest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// target is a cluster the contract suite runs against.
type target struct {
	name    string
	brokers func(t *testing.T) []string
}

// targets are the embedded cluster always, and the brokers of KAFKA_BROKERS when it is set.
func targets() []target {
	ts := []target{{"kfake", func(t *testing.T) []string { return kafkatest.Embedded(t) }}}
	if os.Getenv("KAFKA_BROKERS") != "" {
		ts = append(ts, target{"KAFKA_BROKERS", func(t *testing.T) []string { return kafkatest.Brokers(t) }})
	}
	return ts
}

func forEachTarget(t *testing.T, test func(t *testing.T, brokers []string)) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) { test(t, tg.brokers(t)) })
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newPublisher(t *testing.T, brokers []string, reg prometheus.Registerer) *kafka.Publisher {
	t.Helper()
	p, err := kafka.NewPublisher(kafka.NewConfig(brokers...), slog.New(slog.DiscardHandler), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close publisher: %v", err)
		}
	})
	return p
}

func ensure(t *testing.T, brokers []string, specs ...kafka.TopicSpec) {
	t.Helper()
	if err := kafka.EnsureTopics(testContext(t), brokers, specs...); err != nil {
		t.Fatal(err)
	}
}

// consumeAll reads n messages from every partition of topic with kafka-go Readers, one per partition.
func consumeAll(t *testing.T, brokers []string, topic string, partitions, n int) []kafkago.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var (
		mu   sync.Mutex
		got  []kafkago.Message
		wg   sync.WaitGroup
		errs = make(chan error, 2*partitions) // a read and a close error each
	)
	for p := 0; p < partitions; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := kafkago.NewReader(kafkago.ReaderConfig{
				Brokers: brokers, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond,
			})
			defer func() {
				if err := r.Close(); err != nil {
					errs <- fmt.Errorf("close reader of partition %d: %w", p, err)
				}
			}()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					if ctx.Err() == nil {
						errs <- fmt.Errorf("read partition %d: %w", p, err)
					}
					return
				}
				mu.Lock()
				got = append(got, m)
				if len(got) >= n {
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(got) != n {
		t.Fatalf("consumed %d messages, want %d", len(got), n)
	}
	return got
}

func TestPublishThenConsume(t *testing.T) {
	t.Parallel()
	forEachTarget(t, func(t *testing.T, brokers []string) {
		topic := kafkatest.Topic(t, "prices")
		ensure(t, brokers, kafka.TopicSpec{Name: topic, Partitions: 3, ReplicationFactor: 1})
		reg := prometheus.NewRegistry()
		p := newPublisher(t, brokers, reg)

		var msgs []stockalert.OutboxMessage
		for i := 0; i < 60; i++ {
			msgs = append(msgs, stockalert.OutboxMessage{
				ID: int64(i), Topic: topic, Key: fmt.Sprintf("TICKER%d", i%7), Value: []byte(fmt.Sprintf(`{"seq":%d}`, i)),
			})
		}
		if err := p.Publish(testContext(t), msgs...); err != nil {
			t.Fatal(err)
		}

		got := consumeAll(t, brokers, topic, 3, len(msgs))
		seen := map[string]bool{}
		partitionOf := map[string]int{}
		lastSeq := map[string]int{}
		for _, m := range got {
			var seq int
			if _, err := fmt.Sscanf(string(m.Value), `{"seq":%d}`, &seq); err != nil {
				t.Fatalf("value %q: %v", m.Value, err)
			}
			want := msgs[seq]
			if string(m.Key) != want.Key {
				t.Errorf("message %d has key %q, want %q", seq, m.Key, want.Key)
			}
			if seen[string(m.Value)] {
				t.Errorf("message %d delivered twice", seq)
			}
			seen[string(m.Value)] = true
			key := string(m.Key)
			if p, ok := partitionOf[key]; ok && p != m.Partition {
				t.Errorf("key %s in partitions %d and %d", key, p, m.Partition)
			}
			partitionOf[key] = m.Partition
			if last, ok := lastSeq[key+"/"+fmt.Sprint(m.Partition)]; ok && seq < last {
				t.Errorf("key %s out of order: %d after %d", key, seq, last)
			}
			lastSeq[key+"/"+fmt.Sprint(m.Partition)] = seq
		}
		parts := map[int]bool{}
		for _, p := range partitionOf {
			parts[p] = true
		}
		if len(parts) < 2 {
			t.Errorf("7 keys all landed in %d partition(s): keys are not spread", len(parts))
		}
		if v := counterValue(t, reg, topic, "ok"); v != 60 {
			t.Errorf("kafka_publish_messages_total{result=ok} = %v, want 60", v)
		}
	})
}

// counterValue reads kafka_publish_messages_total for topic and result (0 when absent).
func counterValue(t *testing.T, reg *prometheus.Registry, topic, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "kafka_publish_messages_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["topic"] == topic && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestKeyPartitioningMatchesJavaClient checks each key lands where the Java client's default
// partitioner puts it, taking franz-go's independent murmur2 implementation as the reference, and that
// a second publisher agrees.
func TestKeyPartitioningMatchesJavaClient(t *testing.T) {
	t.Parallel()
	forEachTarget(t, func(t *testing.T, brokers []string) {
		const partitions = 5
		topic := kafkatest.Topic(t, "alerts")
		ensure(t, brokers, kafka.TopicSpec{Name: topic, Partitions: partitions, ReplicationFactor: 1})

		keys := []string{"AAPL", "MSFT", "BRK-B", "^GSPC", "EURUSD=X", "BTC-USD", "ann@example.com", "bob@example.org", "x"}
		var msgs []stockalert.OutboxMessage
		for round := 0; round < 2; round++ {
			p := newPublisher(t, brokers, nil) // a fresh publisher each round
			var batch []stockalert.OutboxMessage
			for _, k := range keys {
				batch = append(batch, stockalert.OutboxMessage{Topic: topic, Key: k, Value: []byte(fmt.Sprintf("%s/%d", k, round))})
			}
			if err := p.Publish(testContext(t), batch...); err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, batch...)
		}

		reference := kgo.StickyKeyPartitioner(nil).ForTopic(topic)
		for _, m := range consumeAll(t, brokers, topic, partitions, len(msgs)) {
			want := reference.Partition(&kgo.Record{Key: m.Key}, partitions)
			if m.Partition != want {
				t.Errorf("key %q (%s) in partition %d, the Java partitioner says %d", m.Key, m.Value, m.Partition, want)
			}
		}
	})
}

func TestEnsureTopicsIsIdempotent(t *testing.T) {
	t.Parallel()
	forEachTarget(t, func(t *testing.T, brokers []string) {
		a, b := kafkatest.Topic(t, "a"), kafkatest.Topic(t, "b")
		ensure(t, brokers, kafka.TopicSpec{Name: a, Partitions: 4, ReplicationFactor: 1})
		// Again, with a new topic alongside the existing one.
		ensure(t, brokers, kafka.TopicSpec{Name: a, Partitions: 4, ReplicationFactor: 1},
			kafka.TopicSpec{Name: b, Partitions: 2, ReplicationFactor: 1, Configs: map[string]string{"retention.ms": "3600000"}})
		// An existing topic counts as created whatever its settings, and is left as it is.
		ensure(t, brokers, kafka.TopicSpec{Name: b, Partitions: 7, ReplicationFactor: 1})

		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		details, err := kadm.NewClient(cl).ListTopics(testContext(t), a, b)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]int{a: 4, b: 2} {
			td, ok := details[name]
			if !ok || td.Err != nil || len(td.Partitions) != want {
				t.Errorf("topic %s: %+v, want %d partitions", name, td, want)
			}
		}

		// Publishing right after creation works.
		if err := newPublisher(t, brokers, nil).Publish(testContext(t), stockalert.OutboxMessage{Topic: b, Key: "k", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestEnsureTopicsReportsRefusals(t *testing.T) {
	t.Parallel()
	forEachTarget(t, func(t *testing.T, brokers []string) {
		topic := kafkatest.Topic(t, "too-many-replicas")
		err := kafka.EnsureTopics(testContext(t), brokers, kafka.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 99})
		if !errors.Is(err, kafkago.InvalidReplicationFactor) || !strings.Contains(err.Error(), "create topic "+topic) {
			t.Fatalf("EnsureTopics with replication factor 99: %v", err)
		}
	})
}

func TestPublishFailsWithinDeadlineWhenBrokerUnreachable(t *testing.T) {
	t.Parallel()
	dead := deadport.Addr(t)
	p := newPublisher(t, []string{dead}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := p.Publish(ctx, stockalert.OutboxMessage{Topic: "to-alert-system", Key: "AAPL", Value: []byte("{}")})
	if err == nil {
		t.Fatal("Publish to an unreachable broker succeeded")
	}
	if !strings.Contains(err.Error(), "publish 1 messages to to-alert-system") {
		t.Errorf("error %q does not say what failed", err)
	}

	ctx2, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	err = kafka.EnsureTopics(ctx2, []string{dead}, kafka.TopicSpec{Name: "t", Partitions: 1})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "ensure topics [t]") {
		t.Fatalf("EnsureTopics on an unreachable broker: %v, want the context's deadline, naming the topic", err)
	}
	t.Logf("EnsureTopics on an unreachable broker: %v", err)
}

// TestPublishFailsWithinDeadlineWhenBrokerHangs covers a broker that accepts connections and never
// answers: only the context can end the wait.
func TestPublishFailsWithinDeadlineWhenBrokerHangs(t *testing.T) {
	t.Parallel()
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		errs := []error{ln.Close()}
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			errs = append(errs, c.Close())
		}
		if err := errors.Join(errs...); err != nil {
			t.Errorf("close the hanging broker: %v", err)
		}
	})

	p := newPublisher(t, []string{ln.Addr().String()}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err = p.Publish(ctx, stockalert.OutboxMessage{Topic: "to-notifier", Key: "a@b.c", Value: []byte("{}")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish to a hanging broker: %v, want the context's deadline", err)
	}

	ctx2, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	err = kafka.EnsureTopics(ctx2, []string{ln.Addr().String()}, kafka.TopicSpec{Name: "t", Partitions: 1})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("EnsureTopics on a hanging broker: %v, want the context's deadline", err)
	}

	// Without a deadline of its own, Publish gives up after MaxAttempts × (WriteTimeout + 1s) at most
	// (the transport's read timeout may end it sooner): it returns, with an error. (No timing is
	// asserted: a Publish that never returned would fail the test by its timeout.)
	cfg := kafka.NewConfig(ln.Addr().String())
	cfg.WriteTimeout, cfg.MaxAttempts = 500*time.Millisecond, 1
	p2, err := kafka.NewPublisher(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		// Its buffered message never left: Close may report that.
		if err := p2.Close(); err != nil {
			t.Logf("close the publisher of a hanging broker: %v", err)
		}
	}()
	err = p2.Publish(context.Background(), stockalert.OutboxMessage{Topic: "to-notifier", Key: "a@b.c", Value: []byte("{}")})
	if err == nil {
		t.Fatal("Publish without deadline to a hanging broker succeeded")
	}
}

func TestPublishConcurrently(t *testing.T) {
	t.Parallel()
	forEachTarget(t, func(t *testing.T, brokers []string) {
		topic := kafkatest.Topic(t, "concurrent")
		ensure(t, brokers, kafka.TopicSpec{Name: topic, Partitions: 3, ReplicationFactor: 1})
		p := newPublisher(t, brokers, nil)
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var batch []stockalert.OutboxMessage
				for i := 0; i < each; i++ {
					batch = append(batch, stockalert.OutboxMessage{Topic: topic, Key: fmt.Sprint(w), Value: []byte(fmt.Sprintf("%d-%d", w, i))})
				}
				errs <- p.Publish(testContext(t), batch...)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]bool{}
		for _, m := range consumeAll(t, brokers, topic, 3, workers*each) {
			seen[string(m.Value)] = true
		}
		if len(seen) != workers*each {
			t.Fatalf("%d distinct messages, want %d", len(seen), workers*each)
		}
	})
}

func TestPublishRefusesBadInput(t *testing.T) {
	t.Parallel()
	brokers := kafkatest.Embedded(t)
	reg := prometheus.NewRegistry()
	p := newPublisher(t, brokers, reg)
	err := p.Publish(testContext(t), stockalert.OutboxMessage{ID: 7, Key: "k", Value: []byte("v")})
	if err == nil || !strings.Contains(err.Error(), "outbox message 7: no topic") {
		t.Fatalf("Publish without topic: %v", err)
	}
	if err := p.Publish(testContext(t)); err != nil {
		t.Fatalf("Publish of nothing: %v", err)
	}
	// A missing topic is an error when auto-creation is off, and counted as such.
	missing := kafkatest.Topic(t, "missing")
	err = p.Publish(testContext(t), stockalert.OutboxMessage{Topic: missing, Key: "k", Value: []byte("v")})
	if !errors.Is(err, kafkago.UnknownTopicOrPartition) {
		t.Fatalf("Publish to a missing topic: %v, want UnknownTopicOrPartition", err)
	}
	if v := counterValue(t, reg, missing, "error"); v != 1 {
		t.Errorf("kafka_publish_messages_total{result=error} = %v, want 1", v)
	}
	if _, err := kafka.NewPublisher(kafka.NewConfig(), slog.New(slog.DiscardHandler), nil); err == nil {
		t.Fatal("NewPublisher without brokers succeeded")
	}
	if _, err := kafka.NewPublisher(kafka.NewConfig(brokers...), slog.New(slog.DiscardHandler), reg); err == nil {
		t.Fatal("a second publisher on the same registry succeeded")
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("KAFKA_BROKERS", "")
	if _, err := kafka.ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "KAFKA_BROKERS") {
		t.Fatalf("empty KAFKA_BROKERS: %v", err)
	}
	t.Setenv("KAFKA_BROKERS", " a:9092, b:9092 ,")
	t.Setenv("KAFKA_CLIENT_ID", "data-collector")
	t.Setenv("KAFKA_WRITE_TIMEOUT", "3s")
	cfg, err := kafka.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Brokers, "|") != "a:9092|b:9092" || cfg.ClientID != "data-collector" || cfg.WriteTimeout != 3*time.Second ||
		cfg.BatchTimeout != 2*time.Millisecond || cfg.BatchSize != 1000 || cfg.MaxAttempts != 3 || cfg.AllowAutoTopicCreation {
		t.Fatalf("cfg = %+v", cfg)
	}
	t.Setenv("KAFKA_WRITE_TIMEOUT", "soon")
	if _, err := kafka.ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "KAFKA_WRITE_TIMEOUT") {
		t.Fatalf("bad KAFKA_WRITE_TIMEOUT: %v", err)
	}
}

func TestPublisherCreatesItsTopicsBeforeTheFirstPublish(t *testing.T) {
	t.Parallel()
	forEachTarget(t, func(t *testing.T, brokers []string) {
		topic := kafkatest.Topic(t, "ensured")
		p := newPublisher(t, brokers, nil)
		p.EnsureTopicsFirst(kafka.TopicSettings{Partitions: 2, ReplicationFactor: 1}.Specs(topic)...)
		if err := p.Publish(testContext(t), stockalert.OutboxMessage{Topic: topic, Key: "k", Value: []byte("v")}); err != nil {
			t.Fatalf("Publish to a topic the publisher ensures: %v", err)
		}
		got := consumeAll(t, brokers, topic, 2, 1)
		if string(got[0].Value) != "v" {
			t.Fatalf("consumed %q", got[0].Value)
		}
	})
}

// TestPublishTellsMessagesThatCanNeverSucceed: a topic whose max.message.bytes is 1024 refuses a 4 KiB
// message for good while the messages around it are published; messages refused only because they
// shared a record batch are sent again alone and succeed; a message over the producer's own limit and
// one without a topic are refused before sending. Each refusal is its own entry of
// stockalert.PublishErrors, wrapping stockalert.ErrUnpublishable.
func TestPublishTellsMessagesThatCanNeverSucceed(t *testing.T) {
	t.Parallel()
	forEachTarget(t, func(t *testing.T, brokers []string) {
		topic := kafkatest.Topic(t, "small")
		ensure(t, brokers, kafka.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 1,
			Configs: map[string]string{"max.message.bytes": "1024"}})
		reg := prometheus.NewRegistry()
		p := newPublisher(t, brokers, reg)

		fill := func(tag string, n int) []byte { return []byte(tag + strings.Repeat(".", n-len(tag))) }
		msgs := []stockalert.OutboxMessage{
			{ID: 1, Topic: topic, Key: "k", Value: fill("a", 400)},
			{ID: 2, Topic: topic, Key: "k", Value: fill("poison", 4096)}, // over the topic's limit
			{ID: 3, Topic: topic, Key: "k", Value: fill("b", 400)},       // a, b, c together exceed 1024 bytes
			{ID: 4, Topic: topic, Key: "k", Value: fill("huge", 2<<20)},  // over kafka-go's 1 MiB batch limit
			{ID: 5, Key: "k", Value: []byte("nowhere")},                  // no topic
			{ID: 6, Topic: topic, Key: "k", Value: fill("c", 400)},
		}
		err := p.Publish(testContext(t), msgs...)
		var perMsg stockalert.PublishErrors
		if !errors.As(err, &perMsg) || len(perMsg) != len(msgs) {
			t.Fatalf("Publish = %v, want a stockalert.PublishErrors of %d entries", err, len(msgs))
		}
		for i, e := range perMsg {
			switch msgs[i].ID {
			case 2, 4:
				if !errors.Is(e, stockalert.ErrUnpublishable) || !errors.Is(e, kafkago.MessageSizeTooLarge) {
					t.Errorf("message %d: %v, want unpublishable, message too large", msgs[i].ID, e)
				}
			case 5:
				if !errors.Is(e, stockalert.ErrUnpublishable) || !strings.Contains(e.Error(), "no topic") {
					t.Errorf("message without topic: %v, want unpublishable, no topic", e)
				}
			default:
				if e != nil {
					t.Errorf("message %d: %v, want it published", msgs[i].ID, e)
				}
			}
		}
		var got []string
		for _, m := range consumeAll(t, brokers, topic, 1, 3) {
			got = append(got, string(m.Value[:1]))
		}
		if strings.Join(got, "") != "abc" {
			t.Errorf("published %q, want a, b, c in order", got)
		}
		if v := counterValue(t, reg, topic, "unpublishable"); v != 2 {
			t.Errorf("kafka_publish_messages_total{result=unpublishable} = %v, want 2", v)
		}
		if v := counterValue(t, reg, topic, "ok"); v != 3 {
			t.Errorf("kafka_publish_messages_total{result=ok} = %v, want 3", v)
		}
	})
}

// TestPublishKeepsMessagesATopicACLRefuses: a broker answering TOPIC_AUTHORIZATION_FAILED (an ACL
// missing or not propagated yet) does not make the messages unpublishable: each entry is a transient
// error, counted as unauthorised, with one ERROR line naming the topic and the fix; once the ACL is
// fixed the same messages publish. (kfake's fault injection answers the produce request as a broker
// without the ACL does; the real brokers of KAFKA_BROKERS have no ACLs to take away.)
func TestPublishKeepsMessagesATopicACLRefuses(t *testing.T) {
	t.Parallel()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	brokers := cluster.ListenAddrs()
	topic := kafkatest.Topic(t, "acl")
	ensure(t, brokers, kafka.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 1})

	var logs logcapture.Buffer
	reg := prometheus.NewRegistry()
	p, err := kafka.NewPublisher(kafka.NewConfig(brokers...), slog.New(slog.NewJSONHandler(&logs, nil)), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })

	denied := cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.TopicAuthorizationFailed, Count: -1})
	msgs := []stockalert.OutboxMessage{
		{ID: 1, Topic: topic, Key: "k", Value: []byte("a")},
		{ID: 2, Topic: topic, Key: "k", Value: []byte("b")},
	}
	err = p.Publish(testContext(t), msgs...)
	var perMsg stockalert.PublishErrors
	if !errors.As(err, &perMsg) || len(perMsg) != len(msgs) {
		t.Fatalf("Publish = %v, want a stockalert.PublishErrors of %d entries", err, len(msgs))
	}
	for i, e := range perMsg {
		if !errors.Is(e, kafkago.TopicAuthorizationFailed) || errors.Is(e, stockalert.ErrUnpublishable) {
			t.Errorf("message %d: %v, want TOPIC_AUTHORIZATION_FAILED and not unpublishable", msgs[i].ID, e)
		}
	}
	if v := counterValue(t, reg, topic, "unauthorised"); v != 2 {
		t.Errorf("kafka_publish_messages_total{result=unauthorised} = %v, want 2", v)
	}
	if v := counterValue(t, reg, topic, "unpublishable"); v != 0 {
		t.Errorf("kafka_publish_messages_total{result=unpublishable} = %v, want 0", v)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["event"] == "kafka-not-authorised" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 1 || lines[0]["level"] != "ERROR" || lines[0]["topic"] != topic || lines[0]["messages"] != float64(2) ||
		!strings.Contains(lines[0]["msg"].(string), "fix the ACL") {
		t.Errorf("want one ERROR line naming %s, 2 messages and the fix; log:\n%s", topic, logs.String())
	}

	denied.Remove() // the ACL is fixed
	if err := p.Publish(testContext(t), msgs...); err != nil {
		t.Fatalf("Publish after the ACL is fixed: %v", err)
	}
	var got []string
	for _, m := range consumeAll(t, brokers, topic, 1, 2) {
		got = append(got, string(m.Value))
	}
	if strings.Join(got, "") != "ab" {
		t.Errorf("published %q, want a, b", got)
	}
}
