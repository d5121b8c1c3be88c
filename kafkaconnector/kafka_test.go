package kafkaconnector_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stockalert/stockalert/kafkaconnector"
)

// backend starts (or names) a Kafka cluster for one test and returns its brokers.
type backend struct {
	name    string
	brokers func(t testing.TB) []string
}

// backends are the clusters the contract suite runs against: an embedded kfake cluster always, and
// the real broker in KAFKA_BROKERS when it is set.
func backends() []backend {
	bs := []backend{{name: "kfake", brokers: func(t testing.TB) []string {
		c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.AllowAutoTopicCreation())
		if err != nil {
			t.Fatalf("start kfake: %v", err)
		}
		t.Cleanup(c.Close)
		return c.ListenAddrs()
	}}}
	if env := os.Getenv("KAFKA_BROKERS"); env != "" {
		bs = append(bs, backend{name: "kafka", brokers: func(testing.TB) []string { return strings.Split(env, ",") }})
	}
	return bs
}

var (
	unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)
	nameSeq     atomic.Int64
)

// uniqueName returns a topic or group name that no other test or run uses.
func uniqueName(t testing.TB, what string) string {
	base := unsafeChars.ReplaceAllString(t.Name(), "-")
	if len(base) > 120 {
		base = base[len(base)-120:]
	}
	return fmt.Sprintf("%s-%s-%d-%d", strings.Trim(base, "-"), what, time.Now().UnixNano()%1e9, nameSeq.Add(1))
}

// cluster is the test's view of a broker: admin, producer and a reader of dead-letter topics.
type cluster struct {
	brokers []string
	client  *kgo.Client
	admin   *kadm.Client
}

func newCluster(t testing.TB, brokers []string) *cluster {
	// A short metadata min age: the tests produce to topics created a moment before, and kgo would
	// wait 5s by default before it asks again about a topic it found missing.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0), kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &cluster{brokers: brokers, client: cl, admin: kadm.NewClient(cl)}
}

func (c *cluster) createTopic(t testing.TB, name string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := c.admin.CreateTopics(ctx, partitions, 1, nil, name)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	// A real broker answers CreateTopics before every partition has a leader: producing at once can
	// fail with UNKNOWN_TOPIC_OR_PARTITION. Wait until the metadata shows each partition led.
	for {
		ds, err := c.admin.ListTopics(ctx, name)
		if err != nil {
			t.Fatalf("list topic %s: %v", name, err)
		}
		if d := ds[name]; d.Err == nil && len(d.Partitions) == int(partitions) && allLed(d.Partitions) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("topic %s: its %d partitions have no leader yet: %v", name, partitions, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// allLed reports whether every partition has a leader and no error.
func allLed(ps kadm.PartitionDetails) bool {
	for _, p := range ps {
		if p.Err != nil || p.Leader < 0 {
			return false
		}
	}
	return true
}

// topicExists reports whether the cluster has topic with its partitions.
func (c *cluster) topicExists(t testing.TB, topic string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ds, err := c.admin.ListTopics(ctx, topic)
	if err != nil {
		t.Fatalf("list topics: %v", err)
	}
	return ds[topic].Err == nil && len(ds[topic].Partitions) > 0
}

// message builds a record for topic/partition whose value is id.
func message(topic string, partition int32, id string) *kgo.Record {
	return &kgo.Record{Topic: topic, Partition: partition, Key: []byte("key-" + id), Value: []byte(id),
		Headers: []kgo.RecordHeader{{Key: "trace-id", Value: []byte("trace-" + id)}}}
}

func (c *cluster) produce(t testing.TB, recs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.client.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// committed returns the group's committed offset per partition of topic, retrying errors the
// broker calls retriable (a fresh broker creates its offsets topic on first use).
func (c *cluster) committed(t testing.TB, group, topic string) map[int32]int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		offs, err := c.admin.FetchOffsets(ctx, group)
		cancel()
		switch {
		case errors.Is(err, kerr.GroupIDNotFound):
			return map[int32]int64{} // nothing committed yet
		case err == nil:
			out := map[int32]int64{}
			for p, o := range offs[topic] {
				if o.Err == nil && o.At >= 0 {
					out[p] = o.At
				}
			}
			return out
		case kerr.IsRetriable(err) && time.Now().Before(deadline):
			time.Sleep(100 * time.Millisecond)
		default:
			t.Fatalf("fetch offsets of %s: %v", group, err)
		}
	}
}

// endOffsets returns the high watermark of each partition of topic.
func (c *cluster) endOffsets(t testing.TB, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := c.admin.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	out := map[int32]int64{}
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			out[o.Partition] = o.Offset
		}
	})
	return out
}

// waitCommittedToEnd waits until group has committed every message of topic.
func (c *cluster) waitCommittedToEnd(t testing.TB, group, topic string) {
	t.Helper()
	var got, want map[int32]int64
	eventually(t, 60*time.Second, func() bool {
		got, want = c.committed(t, group, topic), c.endOffsets(t, topic)
		for p, end := range want {
			if end > 0 && got[p] != end {
				return false
			}
		}
		return true
	}, "group %s to commit %s to its end (committed %v, end %v)", group, topic, func() any { return got }, func() any { return want })
}

// readAll reads topic from the start until it holds n records, and fails if the topic holds more
// (its end offsets are the observable count: call it once the writers are done).
func (c *cluster) readAll(t testing.TB, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond),
		kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	if len(recs) < n {
		t.Fatalf("read %d records from %s, want %d", len(recs), topic, n)
	}
	var total int64
	for _, end := range c.endOffsets(t, topic) {
		total += end
	}
	if total != int64(n) || len(recs) != n {
		t.Fatalf("%s holds %d records (read %d), want %d", topic, total, len(recs), n)
	}
	return recs
}

// running is a connector started by a test.
type running struct {
	*kafkaconnector.Connector
	reg  *prometheus.Registry
	stop func() // cancels Run and waits for it to return nil
}

// testFetchMaxWait is the readers' fetch deadline in tests: kafka-go asks the broker to answer an
// idle fetch 1s before it, so 100ms here.
const testFetchMaxWait = 1100 * time.Millisecond

// start runs a connector until the test ends or stop is called.
func start(t testing.TB, cfg kafkaconnector.Config) *running {
	t.Helper()
	reg := prometheus.NewRegistry()
	c, err := kafkaconnector.New(cfg, testLogger(t), reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.SetFetchMaxWait(testFetchMaxWait)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(2 * time.Minute):
			t.Errorf("Run did not return after its context was cancelled")
		}
	})
	t.Cleanup(stop)
	return &running{Connector: c, reg: reg, stop: stop}
}

// testConfig is a configuration with short intervals for tests against brokers and gw.
func testConfig(t testing.TB, brokers []string, gw *fakeGateway, topics ...string) kafkaconnector.Config {
	return kafkaconnector.Config{
		GatewayURL:           gw.URL,
		Brokers:              brokers,
		Topics:               topics,
		Group:                uniqueName(t, "group"),
		InitialOffset:        kafkaconnector.OffsetOldest,
		UpstreamTimeout:      10 * time.Second,
		RebuildInterval:      100 * time.Millisecond,
		RetryAttempts:        3,
		RetryInitialInterval: 5 * time.Millisecond,
		RetryMaxInterval:     20 * time.Millisecond,
		RetryWindow:          time.Minute,
		ShutdownTimeout:      10 * time.Second,
		SessionTimeout:       10 * time.Second,
		HeartbeatInterval:    200 * time.Millisecond,
		RebalanceTimeout:     10 * time.Second,
		BasicAuth:            true,
		SecretMountPath:      gw.SecretDir,
	}
}

// testLogger logs warnings and errors (TEST_LOG_LEVEL=debug for more) into the test's output.
func testLogger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if v := os.Getenv("TEST_LOG_LEVEL"); v != "" {
		_ = level.UnmarshalText([]byte(v))
	}
	w := t.Output()
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// metric sums the samples of the named metric whose labels include want.
func metric(t testing.TB, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabels(m, want) {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// eventually polls cond until it holds or timeout passes, then fails t with the message. Arguments
// that are funcs returning any are called when the message is formatted.
func eventually(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	if assert.Eventually(t, cond, timeout, 20*time.Millisecond) {
		return
	}
	for i, a := range args {
		if f, ok := a.(func() any); ok {
			args[i] = f()
		}
	}
	t.Fatalf("timed out after %s waiting for "+format, append([]any{timeout}, args...)...)
}
