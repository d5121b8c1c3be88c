package localfaas

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestEmbeddedBrokerWithTopicsKeptAcrossRestarts(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "kafka")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics := []string{"to-alert-system", "to-alert-system.dlq"}

	b, err := StartBroker(BrokerConfig{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateTopics(ctx, []string{b.Addr()}, topics); err != nil {
		t.Fatal(err)
	}
	// Creating them again is fine.
	if err := CreateTopics(ctx, []string{b.Addr()}, topics); err != nil {
		t.Fatalf("second CreateTopics: %v", err)
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
	b, err = StartBroker(BrokerConfig{DataDir: dataDir})
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
