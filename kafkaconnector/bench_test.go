package kafkaconnector_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stockalert/stockalert/kafkaconnector"
)

// noopGateway lists one function subscribed to topic and answers its invocations 200 at once,
// calling onInvoke with each X-Message-Id.
func noopGateway(b *testing.B, topic string, onInvoke func(id string)) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/system/namespaces":
			_ = json.NewEncoder(w).Encode([]string{namespace})
		case "/system/functions":
			ann := map[string]string{"topic": topic}
			_ = json.NewEncoder(w).Encode([]types.FunctionStatus{{Name: "noop", Namespace: namespace, Annotations: &ann}})
		case "/function/noop." + namespace:
			onInvoke(r.Header.Get("X-Message-Id"))
		default:
			http.NotFound(w, r)
		}
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

func benchCluster(b *testing.B) []string {
	brokers := backends()[len(backends())-1].brokers(b) // the real broker when KAFKA_BROKERS is set
	return brokers
}

func benchConfig(b *testing.B, brokers []string, gatewayURL, topic string) kafkaconnector.Config {
	return kafkaconnector.Config{GatewayURL: gatewayURL, Brokers: brokers, Topics: []string{topic},
		Group: uniqueName(b, "group"), RebuildInterval: time.Minute, HeartbeatInterval: time.Second,
		SessionTimeout: 10 * time.Second}
}

// BenchmarkThroughput measures messages per second delivered to a function, committing after
// success, with the topic's messages produced beforehand. The timer (and msgs/s) runs from the first
// invocation to the last. function=noop answers at once; function=1ms takes a millisecond, like a
// function that does a little I/O, to show what partitions in parallel buy when the function, not
// the CPU, is the bottleneck.
func BenchmarkThroughput(b *testing.B) {
	for _, work := range []time.Duration{0, time.Millisecond} {
		for _, partitions := range []int32{1, 6} {
			name := "function=noop"
			if work > 0 {
				name = "function=" + work.String()
			}
			b.Run(fmt.Sprintf("partitions=%d/%s", partitions, name), func(b *testing.B) {
				benchThroughput(b, partitions, work)
			})
		}
	}
}

func benchThroughput(b *testing.B, partitions int32, work time.Duration) {
	b.StopTimer()
	brokers := benchCluster(b)
	k := newCluster(b, brokers)
	topic := uniqueName(b, "topic")
	k.createTopic(b, topic, partitions)
	var count atomic.Int64
	var first, last atomic.Int64
	started, done := make(chan struct{}), make(chan struct{})
	n := int64(b.N)
	url := noopGateway(b, topic, func(string) {
		if work > 0 {
			time.Sleep(work)
		}
		now := time.Now().UnixNano()
		c := count.Add(1)
		if c == 1 {
			first.Store(now)
			close(started)
		}
		if c == n {
			last.Store(now)
			close(done)
		}
	})
	value := make([]byte, 200)
	recs := make([]*kgo.Record, 0, 10000)
	for i := range b.N {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i) % partitions, Value: value})
		if len(recs) == cap(recs) || i == b.N-1 {
			k.produce(b, recs...)
			recs = recs[:0]
		}
	}
	cfg := benchConfig(b, brokers, url, topic)
	r := start(b, cfg)
	for _, ch := range []chan struct{}{started, done} {
		select {
		case <-ch:
		case <-time.After(5 * time.Minute):
			b.Fatalf("delivered %d of %d messages", count.Load(), b.N)
		}
		if ch == started {
			b.StartTimer()
		}
	}
	b.StopTimer()
	if b.N > 1 {
		b.ReportMetric(float64(b.N-1)/(time.Duration(last.Load()-first.Load()).Seconds()), "msgs/s")
	}
	k.waitCommittedToEnd(b, cfg.Group, topic)
	r.stop()
}

// BenchmarkLatency measures the time from producing a message until the no-op function is invoked
// with it (p50-µs, p99-µs), one message at a time over 6 partitions, and the produce round trip
// alone (produce-p50-µs, produce-p99-µs): the connector adds roughly the difference.
func BenchmarkLatency(b *testing.B) {
	const partitions = 6
	brokers := benchCluster(b)
	k := newCluster(b, brokers)
	topic := uniqueName(b, "topic")
	k.createTopic(b, topic, partitions)
	var mu sync.Mutex
	arrived := map[string]chan time.Time{}
	wait := func(id string) chan time.Time {
		mu.Lock()
		defer mu.Unlock()
		if arrived[id] == nil {
			arrived[id] = make(chan time.Time, 1)
		}
		return arrived[id]
	}
	url := noopGateway(b, topic, func(id string) { wait(id) <- time.Now() })
	cfg := benchConfig(b, brokers, url, topic)
	start(b, cfg)

	// Warm up: one message per partition, so every partition's reader is connected.
	warm := make([]*kgo.Record, partitions)
	for p := range warm {
		warm[p] = &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte("warm")}
	}
	k.produce(b, warm...)
	for p := range partitions {
		<-wait(fmt.Sprintf("%s/%d/0", topic, p))
	}

	e2e := make([]time.Duration, 0, b.N)
	produce := make([]time.Duration, 0, b.N)
	value := make([]byte, 200)
	b.ResetTimer()
	for i := range b.N {
		p := int32(i % partitions)
		id := fmt.Sprintf("%s/%d/%d", topic, p, 1+i/partitions)
		ch := wait(id)
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := k.client.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Value: value}).FirstErr(); err != nil {
			b.Fatal(err)
		}
		cancel()
		produce = append(produce, time.Since(t0))
		select {
		case at := <-ch:
			e2e = append(e2e, at.Sub(t0))
		case <-time.After(30 * time.Second):
			b.Fatalf("message %s not delivered", id)
		}
	}
	b.StopTimer()
	q := func(ds []time.Duration, f float64) float64 {
		slices.Sort(ds)
		return float64(ds[min(len(ds)-1, int(f*float64(len(ds))))].Microseconds())
	}
	b.ReportMetric(q(e2e, 0.50), "p50-µs")
	b.ReportMetric(q(e2e, 0.99), "p99-µs")
	b.ReportMetric(q(produce, 0.50), "produce-p50-µs")
	b.ReportMetric(q(produce, 0.99), "produce-p99-µs")
}

var _ = kfake.NumBrokers // kfake is started through backends()
