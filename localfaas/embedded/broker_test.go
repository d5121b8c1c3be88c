package embedded_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stockalert/stockalert/localfaas/embedded"
	"github.com/stockalert/stockalert/shared/kafka"
)

func TestEmbeddedBrokerWithTopicsKeptAcrossRestarts(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "kafka")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics := []string{"to-alert-system", "to-alert-system.dlq"}

	b, err := embedded.StartBroker(embedded.BrokerConfig{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	specs := []kafka.TopicSpec{{Name: topics[0]}, {Name: topics[1]}} // the broker's default partitions
	if err := kafka.EnsureTopics(ctx, []string{b.Addr()}, specs...); err != nil {
		t.Fatal(err)
	}
	// Creating them again is fine.
	if err := kafka.EnsureTopics(ctx, []string{b.Addr()}, specs...); err != nil {
		t.Fatalf("second EnsureTopics: %v", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "to-alert-system", Key: []byte("AAPL"), Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	b.Close()

	// Restart on the same folder: the topics and the message are still there.
	b, err = embedded.StartBroker(embedded.BrokerConfig{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cl, err = kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	details, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range topics {
		if !details.Has(topic) {
			t.Fatalf("topic %s lost across restart: %v", topic, details.Names())
		}
		if n := len(details[topic].Partitions); n != 3 {
			t.Fatalf("topic %s has %d partitions, want the default 3", topic, n)
		}
	}
	offsets, err := kadm.NewClient(cl).ListEndOffsets(ctx, "to-alert-system")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	offsets.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != 1 {
		t.Fatalf("%d messages after restart, want 1", total)
	}
}
