package kafkaconnector_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/stockalert/stockalert/kafkaconnector"
)

// A broker that has just started answers offset requests with NOT_COORDINATOR (16) or
// COORDINATOR_LOAD_IN_PROGRESS (14) until its group coordinator is ready: DLQAdmin retries them
// instead of failing the list or redrive.
func TestDLQAdminRetriesCoordinatorErrors(t *testing.T) {
	const topic = "orders"
	dlq := kafkaconnector.DeadLetterTopic(topic)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic, dlq))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()

	var fetchRefused, commitRefused atomic.Int32
	c.ControlKey(kmsg.OffsetFetch.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if fetchRefused.Load() >= 3 {
			return nil, nil, false // the coordinator is ready: handled as usual from now on
		}
		c.KeepControl()
		fetchRefused.Add(1)
		resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
		resp.SetVersion(req.GetVersion())
		resp.ErrorCode = kerr.NotCoordinator.Code
		for _, g := range req.(*kmsg.OffsetFetchRequest).Groups {
			rg := kmsg.NewOffsetFetchResponseGroup()
			rg.Group, rg.ErrorCode = g.Group, kerr.NotCoordinator.Code
			resp.Groups = append(resp.Groups, rg)
		}
		return resp, nil, true
	})
	c.ControlKey(kmsg.OffsetCommit.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if commitRefused.Load() >= 2 {
			return nil, nil, false
		}
		c.KeepControl()
		commitRefused.Add(1)
		creq := req.(*kmsg.OffsetCommitRequest)
		resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
		resp.SetVersion(req.GetVersion())
		for _, rt := range creq.Topics {
			st := kmsg.NewOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, p := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition, sp.ErrorCode = p.Partition, kerr.CoordinatorLoadInProgress.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr := &kafkago.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafkago.Writer{Addr: kafkago.TCP(brokers...), RequiredAcks: kafkago.RequireAll, BatchTimeout: time.Millisecond,
		Transport: tr}
	if err := w.WriteMessages(ctx, kafkago.Message{Topic: dlq, Key: []byte("k"), Value: []byte("v"),
		Headers: []kafkago.Header{{Key: kafkaconnector.DLQHeaderTopic, Value: []byte(topic)}}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	admin := kafkaconnector.NewDLQAdmin(brokers, "")
	defer func() { _ = admin.Close() }()
	dls, err := admin.List(ctx, topic, kafkaconnector.AllDeadLetters)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(dls) != 1 || string(dls[0].Value) != "v" || dls[0].Redriven {
		t.Fatalf("list: %+v, want the one dead letter, not redriven", dls)
	}
	if n := fetchRefused.Load(); n != 3 {
		t.Fatalf("offset fetch refused %d times, want 3 (all retried)", n)
	}
	res, err := admin.Redrive(ctx, topic, kafkaconnector.AllDeadLetters)
	if err != nil {
		t.Fatalf("redrive: %v", err)
	}
	if res.Republished != 1 {
		t.Fatalf("redrive: %+v, want 1 republished", res)
	}
	if n := commitRefused.Load(); n != 2 {
		t.Fatalf("offset commit refused %d times, want 2 (all retried)", n)
	}
	if dls, err = admin.List(ctx, topic, kafkaconnector.AllDeadLetters); err != nil || !dls[0].Redriven {
		t.Fatalf("list after redrive: %+v, %v; want it redriven (the retried commit took)", dls, err)
	}

	// No such topic: a plain error at once, not retries until the deadline.
	start := time.Now()
	_, err = admin.List(ctx, "no-such-topic", kafkaconnector.AllDeadLetters)
	var unknown *kafkaconnector.UnknownTopicError
	if !errors.As(err, &unknown) || unknown.Topic != "no-such-topic.dlq" || err.Error() != "topic no-such-topic.dlq does not exist" {
		t.Fatalf("list of a missing topic: %v, want topic no-such-topic.dlq does not exist", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("list of a missing topic took until the deadline (%v)", time.Since(start))
	}
}
