package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/stockalert/stockalert/kafkaconnector"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func noEnv(string) string { return "" }

// Bad command lines are refused with the usage and say what is wrong; nothing is contacted.
func TestDLQRefusesBadArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "want list or redrive"},
		{[]string{"purge", "-topic", "t"}, "want list or redrive"},
		{[]string{"list", "-brokers", "k:9092"}, "-topic is required"},
		{[]string{"list", "-topic", "t"}, "-brokers is required"},
		{[]string{"redrive", "-topic", "t", "-brokers", "k:9092"}, "either -all or a range"},
		{[]string{"redrive", "-topic", "t", "-brokers", "k:9092", "-all", "-from", "3"}, "either -all or a range"},
		{[]string{"redrive", "-topic", "t", "-brokers", "k:9092", "-from", "5", "-to", "2"}, "-to 2 is before -from 5"},
		{[]string{"list", "-topic", "t", "-brokers", "k:9092", "extra"}, "unexpected arguments"},
	} {
		var stdout, stderr bytes.Buffer
		err := runDLQ(context.Background(), tc.args, noEnv, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("dlq %q: error %v, want one saying %q", tc.args, err, tc.want)
		}
		if !strings.Contains(stderr.String(), "usage:") {
			t.Errorf("dlq %q: no usage on stderr", tc.args)
		}
	}
}

// The program lists a dead letter and redrives it to its source topic once, with the brokers taken
// from KAFKA_BROKERS.
func TestDLQListAndRedrive(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ProducerLinger(0), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dead := &kgo.Record{Topic: "orders.dlq", Key: []byte("k-1"), Value: []byte("v-1"), Headers: []kgo.RecordHeader{
		{Key: "trace-id", Value: []byte("tr-1")},
		{Key: kafkaconnector.DLQHeaderFunction, Value: []byte("alpha.openfaas-fn")},
		{Key: kafkaconnector.DLQHeaderStatus, Value: []byte("422")},
		{Key: kafkaconnector.DLQHeaderAttempts, Value: []byte("1")},
		{Key: kafkaconnector.DLQHeaderError, Value: []byte("function answered 422")},
		{Key: kafkaconnector.DLQHeaderTopic, Value: []byte("orders")},
		{Key: kafkaconnector.DLQHeaderMessageID, Value: []byte("orders/0/7")},
	}}
	if err := cl.ProduceSync(ctx, dead, &kgo.Record{Topic: "orders", Value: []byte("first")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "KAFKA_BROKERS" {
			return strings.Join(c.ListenAddrs(), ",")
		}
		return ""
	}
	run := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := runDLQ(ctx, args, env, &stdout, &stderr); err != nil {
			t.Fatalf("dlq %q: %v\n%s", args, err, stderr.String())
		}
		return stdout.String()
	}
	if out := run("list", "-topic", "orders"); !strings.Contains(out, "orders/0/7") || !strings.Contains(out, "alpha.openfaas-fn") ||
		!strings.Contains(out, " dead ") || !strings.Contains(out, "function answered 422") {
		t.Errorf("list:\n%s", out)
	}
	if out := run("redrive", "-topic", "orders.dlq", "-all"); !strings.Contains(out, "republished 1,") {
		t.Errorf("redrive: %s", out)
	}
	if out := run("redrive", "-topic", "orders", "-all"); !strings.Contains(out, "republished 0, skipped 1") {
		t.Errorf("second redrive: %s", out)
	}
	if out := run("list", "-topic", "orders"); !strings.Contains(out, " redriven ") {
		t.Errorf("list after redrive:\n%s", out)
	}

	rd, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var recs []*kgo.Record
	for len(recs) < 2 && ctx.Err() == nil {
		rd.PollFetches(ctx).EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	if len(recs) != 2 {
		t.Fatalf("orders holds %d records, want the first and the redriven one", len(recs))
	}
	r := recs[0]
	if string(r.Value) == "first" {
		r = recs[1]
	}
	if string(r.Key) != "k-1" || string(r.Value) != "v-1" || len(r.Headers) != 1 || r.Headers[0].Key != "trace-id" {
		t.Errorf("redriven record: key %q value %q headers %v; want the original key, value and trace-id only", r.Key, r.Value, r.Headers)
	}
}
