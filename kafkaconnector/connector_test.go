package kafkaconnector_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stockalert/stockalert/kafkaconnector"
)

// TestConnector is the contract suite: every case runs against the embedded kfake cluster, and
// against the real broker in KAFKA_BROKERS when it is set.
func TestConnector(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, brokers []string)
	}{
		{"DeliversEveryMessageOnceInPartitionOrder", testDeliversEveryMessage},
		{"SlowPartitionDoesNotHoldUpOthers", testNoHeadOfLineBlocking},
		{"RetriesThenSucceeds", testRetriesThenSucceeds},
		{"RetriesThenDeadLetters", testRetriesThenDeadLetters},
		{"ClientErrorDeadLettersAtOnce", testClientErrorDeadLetters},
		{"ParkedMessageDoesNotHoldUpItsPartition", testParkedDoesNotBlock},
		{"RetryAfterIsHonouredOn429And503", testRetryAfter},
		{"LongRetryAfterDoesNotHoldUpTheRetryPartition", testLongRetryAfterInRetryPartition},
		{"DeadLettersAreListedAndRedriven", testRedrive},
		{"RestartResumesFromCommittedOffset", testRestartResumes},
		{"ShutdownFinishesInFlightInvocation", testShutdownFinishesInFlight},
		{"ShutdownAbandonsSlowInvocation", testShutdownAbandons},
		{"RebalancesBetweenTwoInstances", testRebalance},
		{"DiscoveryPicksUpNewlyAnnotatedFunction", testDiscovery},
		{"SkipsMessagesWithoutSubscriber", testUnrouted},
		{"AsksTheGatewayBeforeSkipping", testLateSubscriber},
		{"WaitsForTopicCreatedLater", testWaitsForTopic},
		{"CreatesMissingTopicsWhenAsked", testCreatesTopics},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, b.brokers(t))
				})
			}
		})
	}
}

func testDeliversEveryMessage(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	orders, audits := uniqueName(t, "orders"), uniqueName(t, "audits")
	k.createTopic(t, orders, 4)
	k.createTopic(t, audits, 2)
	gw.deploy("alpha", " "+orders+" , "+audits, slowly)
	gw.deploy("beta", orders, slowly)
	gw.deploy("gamma", "some-other-topic", nil)
	gw.deploy("delta", "", nil)

	var recs []*kgo.Record
	for i := range 120 {
		recs = append(recs, message(orders, int32(i%4), fmt.Sprintf("o-%d", i)))
	}
	for i := range 30 {
		recs = append(recs, message(audits, int32(i%2), fmt.Sprintf("a-%d", i)))
	}
	odd := &kgo.Record{Topic: orders, Partition: 3, Key: []byte{0xff, 0x00, 'k'}, Value: []byte("odd"),
		Headers: []kgo.RecordHeader{
			{Key: "content-encoding", Value: []byte("identity")},
			{Key: "bad header", Value: []byte("dropped: not a header name")},
			{Key: "Partition", Value: []byte("dropped: would overwrite X-Kafka-Partition")},
			{Key: "multi", Value: []byte("one")}, {Key: "multi", Value: []byte("two")},
		}}
	recs = append(recs, odd)
	k.produce(t, recs...)

	cfg := testConfig(t, brokers, gw, orders, audits)
	start(t, cfg)
	eventually(t, 60*time.Second, func() bool { return len(gw.delivered(fn("alpha"))) == 151 && len(gw.delivered(fn("beta"))) == 121 },
		"alpha to get 151 messages and beta 121 (alpha %d, beta %d)",
		func() any { return len(gw.delivered(fn("alpha"))) }, func() any { return len(gw.delivered(fn("beta"))) })
	k.waitCommittedToEnd(t, cfg.Group, orders)
	k.waitCommittedToEnd(t, cfg.Group, audits)

	for _, f := range []string{fn("alpha"), fn("beta")} {
		for id, n := range gw.delivered(f) {
			if n != 1 {
				t.Errorf("%s got %s %d times, want once", f, id, n)
			}
		}
		if n := len(gw.calls(f)); n != len(gw.delivered(f)) {
			t.Errorf("%s was invoked %d times for %d messages", f, n, len(gw.delivered(f)))
		}
	}
	if n := len(gw.calls(fn("gamma"))) + len(gw.calls(fn("delta"))); n != 0 {
		t.Errorf("functions not subscribed to the topics were invoked %d times", n)
	}
	gw.checkOrder(t, false)

	for _, inv := range gw.calls(fn("beta")) {
		id := fmt.Sprintf("%s/%d/%d", inv.Topic, inv.Partition, inv.Offset)
		h := inv.Header
		if inv.MessageID != id || h.Get("X-Topic") != orders || h.Get("X-Connector") != "kafka-connector" ||
			h.Get("Content-Type") != "text/plain" {
			t.Errorf("headers of %s: %v", id, h)
		}
		if string(inv.Body) == "odd" {
			if got := h.Get("X-Kafka-Key"); h.Get("X-Kafka-Key-Enc") != "b64" || got != base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 'k'}) {
				t.Errorf("binary key sent as %q (enc %q)", got, h.Get("X-Kafka-Key-Enc"))
			}
			if h.Get("X-Kafka-Content-Encoding") != "identity" || strings.Join(h.Values("X-Kafka-Multi"), ",") != "one,two" {
				t.Errorf("message headers not passed on: %v", h)
			}
			if h.Get("X-Kafka-Partition") != "3" {
				t.Errorf("a message header overwrote X-Kafka-Partition: %q", h.Values("X-Kafka-Partition"))
			}
			for name := range h {
				if strings.Contains(strings.ToLower(name), "bad") {
					t.Errorf("invalid header name passed on: %q", name)
				}
			}
			continue
		}
		if want := "key-" + string(inv.Body); h.Get("X-Kafka-Key") != want || h.Get("X-Kafka-Key-Enc") != "" {
			t.Errorf("X-Kafka-Key of %s = %q, want %q", id, h.Get("X-Kafka-Key"), want)
		}
		if want := "trace-" + string(inv.Body); h.Get("X-Kafka-Trace-Id") != want {
			t.Errorf("X-Kafka-Trace-Id of %s = %q, want %q", id, h.Get("X-Kafka-Trace-Id"), want)
		}
	}
}

func testNoHeadOfLineBlocking(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 3)
	stuck, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	gw.deploy("alpha", topic, func(r *http.Request, inv invocation) int {
		if inv.Partition == 0 && inv.Offset == 1 {
			once.Do(func() { close(stuck) })
			select { // partition 0 stalls on its second message until the test lets it go
			case <-release:
			case <-r.Context().Done():
			}
		}
		return http.StatusOK
	})
	cfg := testConfig(t, brokers, gw, topic)
	cfg.UpstreamTimeout = 5 * time.Minute // the stalled invocation must not time out during the test
	start(t, cfg)
	k.produce(t, message(topic, 0, "p0-0"), message(topic, 0, "p0-1"), message(topic, 0, "p0-2"))
	<-stuck

	// Only now do partitions 1 and 2 get messages (more than any fetch buffer holds): they must all
	// be delivered while partition 0 waits.
	var recs []*kgo.Record
	for i := range 200 {
		recs = append(recs, message(topic, 1, fmt.Sprintf("p1-%d", i)), message(topic, 2, fmt.Sprintf("p2-%d", i)))
	}
	k.produce(t, recs...)
	perPartition := func() map[int]int {
		out := map[int]int{}
		for _, inv := range gw.calls(fn("alpha")) {
			if inv.Status == http.StatusOK {
				out[inv.Partition]++
			}
		}
		return out
	}
	eventually(t, 60*time.Second, func() bool { p := perPartition(); return p[1] == 200 && p[2] == 200 },
		"partitions 1 and 2 to be delivered while partition 0 waits (delivered per partition: %v)", func() any { return perPartition() })
	if got := perPartition()[0]; got != 1 {
		t.Errorf("partition 0 delivered %d messages while its second one was in flight, want 1", got)
	}
	close(release)
	k.waitCommittedToEnd(t, cfg.Group, topic)
	gw.checkOrder(t, false)
}

// failFor returns a behaviour that answers status for the message with value id on the first n
// attempts (n < 0: always), and 200 otherwise.
func failFor(id string, status, n int) behaviour {
	return func(_ *http.Request, inv invocation) int {
		if string(inv.Body) == id && (n < 0 || inv.Attempt <= n) {
			return status
		}
		return http.StatusOK
	}
}

func produceSeq(t *testing.T, k *cluster, topic string, partitions int32, from, to int) []string {
	var recs []*kgo.Record
	var ids []string
	for i := from; i < to; i++ {
		id := fmt.Sprintf("m-%d", i)
		recs = append(recs, message(topic, int32(i)%partitions, id))
		ids = append(ids, id)
	}
	k.produce(t, recs...)
	return ids
}

func testRetriesThenSucceeds(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 1)
	alpha := func(r *http.Request, inv invocation) int {
		switch {
		case string(inv.Body) == "m-3" && inv.Attempt <= 2:
			return http.StatusServiceUnavailable
		case string(inv.Body) == "m-5" && inv.Attempt == 1:
			<-r.Context().Done() // no answer within upstream_timeout
			return http.StatusOK
		case string(inv.Body) == "m-7" && inv.Attempt == 1:
			return http.StatusTooManyRequests
		}
		return http.StatusOK
	}
	gw.deploy("alpha", topic, alpha)
	gw.deploy("beta", topic, nil)
	produceSeq(t, k, topic, 1, 0, 10)

	cfg := testConfig(t, brokers, gw, topic)
	cfg.UpstreamTimeout = 300 * time.Millisecond
	c := start(t, cfg)
	k.waitCommittedToEnd(t, cfg.Group, topic)

	for id, want := range map[string]int{"m-3": 3, "m-5": 2, "m-7": 2, "m-8": 1} {
		if got := gw.attemptsFor(fn("alpha"), topic+"/0/"+id[2:]); got != want {
			t.Errorf("alpha was invoked %d times for %s, want %d", got, id, want)
		}
	}
	for id, n := range gw.delivered(fn("beta")) {
		if n != 1 {
			t.Errorf("beta got %s %d times: a function that succeeded was invoked again", id, n)
		}
	}
	if got := len(gw.delivered(fn("alpha"))); got != 10 {
		t.Errorf("alpha got %d messages, want 10", got)
	}
	if got := metric(t, c.reg, "kafka_connector_retries_total", map[string]string{"function": fn("alpha")}); got != 4 {
		t.Errorf("retries_total{alpha} = %v, want 4", got)
	}
	if got := metric(t, c.reg, "kafka_connector_invocations_total", map[string]string{"function": fn("alpha"), "status": "timeout"}); got != 1 {
		t.Errorf("invocations_total{alpha,timeout} = %v, want 1", got)
	}
	if got := metric(t, c.reg, "kafka_connector_dead_lettered_total", nil); got != 0 {
		t.Errorf("dead_lettered_total = %v, want 0", got)
	}
	gw.checkOrder(t, false)
}

func testRetriesThenDeadLetters(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 2)
	gw.deploy("alpha", topic, failFor("m-4", http.StatusInternalServerError, -1))
	gw.deploy("beta", topic, nil)
	produceSeq(t, k, topic, 2, 0, 10)

	cfg := testConfig(t, brokers, gw, topic)
	cfg.RetryWindow = 300 * time.Millisecond
	c := start(t, cfg)
	dl := k.readAll(t, kafkaconnector.DeadLetterTopic(topic), 1)
	k.waitCommittedToEnd(t, cfg.Group, topic)
	k.waitCommittedToEnd(t, cfg.Group, kafkaconnector.RetryTopic(topic))

	id := topic + "/0/2" // m-4 is the third message of partition 0
	attempts := gw.attemptsFor(fn("alpha"), id)
	if attempts <= cfg.RetryAttempts {
		t.Errorf("alpha was invoked %d times for m-4, want more than the %d in place: it is retried from the retry topic for retry_window", attempts, cfg.RetryAttempts)
	}
	if got := gw.attemptsFor(fn("beta"), id); got != 1 {
		t.Errorf("beta was invoked %d times for m-4, want 1", got)
	}
	if got := len(gw.delivered(fn("alpha"))); got != 9 {
		t.Errorf("alpha took %d messages, want the 9 others (the offset must move on)", got)
	}
	if len(dl) != 1 {
		t.Fatalf("dead-letter topic holds %d records, want 1", len(dl))
	}
	checkDeadLetter(t, dl[0], map[string]string{
		kafkaconnector.DLQHeaderFunction:  fn("alpha"),
		kafkaconnector.DLQHeaderStatus:    "500",
		kafkaconnector.DLQHeaderAttempts:  strconv.Itoa(attempts),
		kafkaconnector.DLQHeaderTopic:     topic,
		kafkaconnector.DLQHeaderPartition: "0",
		kafkaconnector.DLQHeaderOffset:    "2",
		kafkaconnector.DLQHeaderMessageID: id,
		"trace-id":                        "trace-m-4",
	}, "m-4")
	if got := metric(t, c.reg, "kafka_connector_dead_lettered_total", map[string]string{"topic": topic, "function": fn("alpha")}); got != 1 {
		t.Errorf("dead_lettered_total = %v, want 1", got)
	}
	for _, h := range dl[0].Headers {
		if h.Key == kafkaconnector.DLQHeaderError && !strings.Contains(string(h.Value), "retry_window") {
			t.Errorf("dead letter error %q does not say the retry window is over", h.Value)
		}
		if strings.HasPrefix(h.Key, "retry-") {
			t.Errorf("dead letter carries the retry topic's header %s", h.Key)
		}
	}
	gw.checkOrder(t, true) // m-4's retries run beside the partition's later messages
}

// testParkedDoesNotBlock: a message whose function keeps failing with 503 is parked in the retry
// topic after the attempts in place, the partition's later messages are delivered meanwhile, and
// the parked one is delivered once the function recovers, well past the attempts in place; nothing
// is dead-lettered and both topics are committed to their end.
func testParkedDoesNotBlock(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 1)
	var recovered atomic.Bool
	gw.deploy("alpha", topic, func(_ *http.Request, inv invocation) int {
		if string(inv.Body) == "m-1" && !recovered.Load() {
			return http.StatusServiceUnavailable // no ready replica
		}
		return http.StatusOK
	})
	produceSeq(t, k, topic, 1, 0, 6)
	cfg := testConfig(t, brokers, gw, topic)
	c := start(t, cfg)

	later := func() int {
		n := 0
		for id := range gw.delivered(fn("alpha")) {
			if id != topic+"/0/0" && id != topic+"/0/1" {
				n++
			}
		}
		return n
	}
	eventually(t, 60*time.Second, func() bool { return later() == 4 }, "m-2…m-5 to be delivered while m-1 is parked (got %d)", func() any { return later() })
	id := topic + "/0/1"
	eventually(t, 60*time.Second, func() bool { return gw.attemptsFor(fn("alpha"), id) > cfg.RetryAttempts+2 },
		"m-1 to be tried again from the retry topic")
	if got := gw.delivered(fn("alpha"))[id]; got != 0 {
		t.Fatalf("m-1 delivered %d times while the function failed", got)
	}
	if got := metric(t, c.reg, "kafka_connector_parked_total", map[string]string{"topic": topic, "function": fn("alpha")}); got < 1 {
		t.Errorf("parked_total = %v, want at least 1", got)
	}
	recovered.Store(true)
	eventually(t, 60*time.Second, func() bool { return gw.delivered(fn("alpha"))[id] == 1 }, "m-1 to be delivered once the function recovered")
	k.waitCommittedToEnd(t, cfg.Group, topic)
	k.waitCommittedToEnd(t, cfg.Group, kafkaconnector.RetryTopic(topic))
	for _, inv := range gw.calls(fn("alpha")) {
		if inv.MessageID == id && (inv.Header.Get("X-Topic") != topic || inv.Header.Get("X-Kafka-Offset") != "1" ||
			inv.Header.Get("X-Kafka-Key") != "key-m-1" || inv.Header.Get("X-Kafka-Trace-Id") != "trace-m-1") {
			t.Errorf("a retry of m-1 was not sent as the original message: %v", inv.Header)
		}
		for name := range inv.Header {
			if strings.HasPrefix(strings.ToLower(name), "x-kafka-retry-") {
				t.Errorf("a retry of %s passed the retry topic's header %s to the function", inv.MessageID, name)
			}
		}
	}
	for mid, n := range gw.delivered(fn("alpha")) {
		if n != 1 {
			t.Errorf("%s delivered %d times, want once", mid, n)
		}
	}
	if got := metric(t, c.reg, "kafka_connector_dead_lettered_total", nil); got != 0 {
		t.Errorf("dead_lettered_total = %v, want 0: a transient failure within retry_window is not a dead letter", got)
	}
}

// testRetryAfter: a function's Retry-After, in seconds on a 503 or as an HTTP-date on a 429, is
// waited for in full although it exceeds retry_max_interval, without holding up the partition; one
// beyond the retry window dead-letters the message at once.
func testRetryAfter(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 1)
	var dateUntil atomic.Pointer[time.Time]
	// Whether m-3, the message after them, had been invoked when m-0 and m-1 were tried again.
	var m3Seen, m3BeforeM0, m3BeforeM1 atomic.Bool
	gw.deploy("alpha", topic, func(_ *http.Request, inv invocation) int {
		switch {
		case string(inv.Body) == "m-3":
			m3Seen.Store(true)
		case string(inv.Body) == "m-0" && inv.Attempt == 2:
			m3BeforeM0.Store(m3Seen.Load())
		case string(inv.Body) == "m-1" && inv.Attempt == 2:
			m3BeforeM1.Store(m3Seen.Load())
		}
		switch {
		case string(inv.Body) == "m-0" && inv.Attempt == 1:
			// Long enough that m-3, right behind, is delivered first even on a loaded machine.
			inv.Reply.Set("Retry-After", "3")
			return http.StatusServiceUnavailable
		case string(inv.Body) == "m-1" && inv.Attempt == 1:
			until := time.Now().Add(4 * time.Second).Truncate(time.Second) // an HTTP-date has whole seconds
			dateUntil.Store(&until)
			inv.Reply.Set("Retry-After", until.UTC().Format(http.TimeFormat))
			return http.StatusTooManyRequests
		case string(inv.Body) == "m-2":
			inv.Reply.Set("Retry-After", "7200") // beyond the retry window
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	produceSeq(t, k, topic, 1, 0, 4)
	cfg := testConfig(t, brokers, gw, topic)
	start(t, cfg)
	eventually(t, 60*time.Second, func() bool { return len(gw.delivered(fn("alpha"))) == 3 }, "m-0, m-1 and m-3 to be delivered")
	dl := k.readAll(t, kafkaconnector.DeadLetterTopic(topic), 1)
	checkDeadLetter(t, dl[0], map[string]string{
		kafkaconnector.DLQHeaderFunction: fn("alpha"),
		kafkaconnector.DLQHeaderStatus:   "503",
		kafkaconnector.DLQHeaderAttempts: "1",
	}, "m-2")

	at := func(id string) []invocation {
		var out []invocation
		for _, inv := range gw.calls(fn("alpha")) {
			if string(inv.Body) == id {
				out = append(out, inv)
			}
		}
		return out
	}
	m0, m1, m3 := at("m-0"), at("m-1"), at("m-3")
	if len(m0) != 2 || len(m1) != 2 || len(m3) != 1 {
		t.Fatalf("attempts: m-0 %d, m-1 %d, m-3 %d; want 2, 2, 1", len(m0), len(m1), len(m3))
	}
	// Retry-After counts from the answer.
	if gap := m0[1].At.Sub(m0[0].Done); gap < 3*time.Second {
		t.Errorf("m-0 was invoked again %s after a 503 with Retry-After: 3", gap)
	}
	if until := *dateUntil.Load(); m1[1].At.Before(until) {
		t.Errorf("m-1 was invoked again at %s, before its Retry-After date %s", m1[1].At.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano))
	}
	if !m3BeforeM0.Load() || !m3BeforeM1.Load() {
		t.Errorf("m-3 waited for the Retry-After of m-0 and m-1: it was invoked at %s, their retries at %s and %s",
			m3[0].At.Format(time.RFC3339Nano), m0[1].At.Format(time.RFC3339Nano), m1[1].At.Format(time.RFC3339Nano))
	}
	if got := gw.attemptsFor(fn("alpha"), topic+"/0/2"); got != 1 {
		t.Errorf("m-2, whose Retry-After lies beyond the retry window, was invoked %d times, want 1", got)
	}
	k.waitCommittedToEnd(t, cfg.Group, topic)
	k.waitCommittedToEnd(t, cfg.Group, kafkaconnector.RetryTopic(topic))
}

// m-0 is parked with a Retry-After far beyond retry_max_interval (Telegram's flood control for one chat,
// say); m-1, parked right behind it in the same retry partition after a few 500s, must go through
// without waiting for m-0's time: a retry partition waits at most retry_max_interval for its head.
func testLongRetryAfterInRetryPartition(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 1)
	var m0Retried, m0RetriedBeforeM1 atomic.Bool
	gw.deploy("alpha", topic, func(_ *http.Request, inv invocation) int {
		switch {
		case string(inv.Body) == "m-0" && inv.Attempt == 1:
			inv.Reply.Set("Retry-After", "3")
			return http.StatusServiceUnavailable
		case string(inv.Body) == "m-0":
			m0Retried.Store(true)
		case string(inv.Body) == "m-1" && inv.Attempt <= 4:
			return http.StatusInternalServerError // 3 tries in place, then parked behind m-0
		case string(inv.Body) == "m-1":
			m0RetriedBeforeM1.Store(m0Retried.Load())
		}
		return http.StatusOK
	})
	produceSeq(t, k, topic, 1, 0, 2)
	cfg := testConfig(t, brokers, gw, topic)
	start(t, cfg)
	eventually(t, 60*time.Second, func() bool { return len(gw.delivered(fn("alpha"))) == 2 }, "m-0 and m-1 to be delivered")
	if m0RetriedBeforeM1.Load() {
		t.Error("m-1 waited in the retry partition until m-0's Retry-After had passed")
	}
	if got := gw.attemptsFor(fn("alpha"), topic+"/0/0"); got != 2 {
		t.Errorf("m-0 was invoked %d times, want 2: once, then after its Retry-After (requeued, not retried early)", got)
	}
	k.waitCommittedToEnd(t, cfg.Group, topic)
	k.waitCommittedToEnd(t, cfg.Group, kafkaconnector.RetryTopic(topic))
}

func testClientErrorDeadLetters(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 1)
	gw.deploy("alpha", topic, failFor("m-1", http.StatusUnprocessableEntity, -1))
	produceSeq(t, k, topic, 1, 0, 4)

	cfg := testConfig(t, brokers, gw, topic)
	start(t, cfg)
	k.waitCommittedToEnd(t, cfg.Group, topic)

	if got := gw.attemptsFor(fn("alpha"), topic+"/0/1"); got != 1 {
		t.Errorf("alpha was invoked %d times for a message it answered 422, want 1", got)
	}
	dl := k.readAll(t, kafkaconnector.DeadLetterTopic(topic), 1)
	if len(dl) != 1 {
		t.Fatalf("dead-letter topic holds %d records, want 1", len(dl))
	}
	checkDeadLetter(t, dl[0], map[string]string{
		kafkaconnector.DLQHeaderFunction: fn("alpha"),
		kafkaconnector.DLQHeaderStatus:   "422",
		kafkaconnector.DLQHeaderAttempts: "1",
	}, "m-1")
	if got := len(gw.delivered(fn("alpha"))); got != 3 {
		t.Errorf("alpha took %d messages, want 3", got)
	}
}

func checkDeadLetter(t *testing.T, r *kgo.Record, want map[string]string, value string) {
	t.Helper()
	got := map[string]string{}
	for _, h := range r.Headers {
		got[h.Key] = string(h.Value)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("dead letter header %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if !strings.Contains(got[kafkaconnector.DLQHeaderError], want[kafkaconnector.DLQHeaderStatus]) {
		t.Errorf("dead letter error %q does not give the status", got[kafkaconnector.DLQHeaderError])
	}
	if string(r.Value) != value || string(r.Key) != "key-"+value {
		t.Errorf("dead letter key/value = %q/%q, want the original key-%s/%s", r.Key, r.Value, value, value)
	}
}

func testRestartResumes(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 3)
	gw.deploy("alpha", topic, slowly)
	produceSeq(t, k, topic, 3, 0, 60)

	cfg := testConfig(t, brokers, gw, topic)
	first := start(t, cfg)
	eventually(t, 60*time.Second, func() bool { return len(gw.delivered(fn("alpha"))) == 60 }, "60 deliveries")
	first.stop()
	if got, want := k.committed(t, cfg.Group, topic), k.endOffsets(t, topic); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after a graceful stop the group committed %v, want every acknowledged message: %v", got, want)
	}

	produceSeq(t, k, topic, 3, 60, 120)
	start(t, cfg)
	eventually(t, 60*time.Second, func() bool { return len(gw.delivered(fn("alpha"))) == 120 }, "120 deliveries")
	k.waitCommittedToEnd(t, cfg.Group, topic)
	for id, n := range gw.delivered(fn("alpha")) {
		if n != 1 {
			t.Errorf("%s delivered %d times across the restart, want once", id, n)
		}
	}
	if got := len(gw.calls(fn("alpha"))); got != 120 {
		t.Errorf("alpha was invoked %d times for 120 messages", got)
	}
	gw.checkOrder(t, false)
}

func testShutdownFinishesInFlight(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 1)
	arrived, release := make(chan struct{}), make(chan struct{})
	gw.deploy("alpha", topic, func(_ *http.Request, inv invocation) int {
		if string(inv.Body) == "m-1" && inv.Attempt == 1 {
			close(arrived)
			<-release
		}
		return http.StatusOK
	})
	produceSeq(t, k, topic, 1, 0, 3)

	cfg := testConfig(t, brokers, gw, topic)
	c := start(t, cfg)
	<-arrived
	stopped := make(chan struct{})
	go func() { c.stop(); close(stopped) }()
	// Give Run time to see the cancellation before m-1 is answered; the outcome must not depend on
	// whether it did.
	time.Sleep(100 * time.Millisecond)
	close(release)
	<-stopped

	if got := k.committed(t, cfg.Group, topic)[0]; got != 2 {
		t.Errorf("committed offset after shutdown = %d, want 2 (m-0 and the in-flight m-1)", got)
	}
	if n := gw.attemptsFor(fn("alpha"), topic+"/0/2"); n != 0 {
		t.Errorf("m-2 was invoked %d times after shutdown began", n)
	}
	start(t, cfg)
	k.waitCommittedToEnd(t, cfg.Group, topic)
	for id, n := range gw.delivered(fn("alpha")) {
		if n != 1 {
			t.Errorf("%s delivered %d times, want once", id, n)
		}
	}
}

func testShutdownAbandons(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 1)
	var arrived sync.Once
	arrivedCh := make(chan struct{})
	gw.deploy("alpha", topic, func(r *http.Request, inv invocation) int {
		if string(inv.Body) == "m-1" && inv.Attempt == 1 {
			arrived.Do(func() { close(arrivedCh) })
			<-r.Context().Done() // never answers; the connector must give up
		}
		return http.StatusOK
	})
	produceSeq(t, k, topic, 1, 0, 3)

	cfg := testConfig(t, brokers, gw, topic)
	cfg.ShutdownTimeout = 200 * time.Millisecond
	c := start(t, cfg)
	<-arrivedCh
	c.stop()

	if got := k.committed(t, cfg.Group, topic)[0]; got != 1 {
		t.Errorf("committed offset after abandoning m-1 = %d, want 1", got)
	}
	start(t, cfg)
	k.waitCommittedToEnd(t, cfg.Group, topic)
	if got := gw.attemptsFor(fn("alpha"), topic+"/0/1"); got != 2 {
		t.Errorf("abandoned m-1 was invoked %d times in all, want 2 (once more after the restart)", got)
	}
	if got := gw.attemptsFor(fn("alpha"), topic+"/0/0"); got != 1 {
		t.Errorf("acknowledged m-0 was invoked %d times, want 1", got)
	}
}

func testRebalance(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	const partitions = 6
	k.createTopic(t, topic, partitions)
	gw.deploy("alpha", topic, slowly)
	cfg := testConfig(t, brokers, gw, topic)

	// A producer writes one message per partition every 20ms for the whole test.
	var produced atomic.Int64
	stopProducing, producerDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(producerDone)
		for i := 0; ; i++ {
			select {
			case <-stopProducing:
				return
			case <-time.After(20 * time.Millisecond):
			}
			produceSeq(t, k, topic, partitions, i*partitions, (i+1)*partitions)
			produced.Add(partitions)
		}
	}()
	consumed := func(r *running) float64 {
		return metric(t, r.reg, "kafka_connector_messages_consumed_total", nil)
	}

	a := start(t, cfg)
	eventually(t, 60*time.Second, func() bool { return consumed(a) >= 30 }, "instance A to consume")
	b := start(t, cfg)
	eventually(t, 60*time.Second, func() bool { return consumed(b) >= 30 }, "instance B to get partitions and consume")
	aBefore := consumed(a)
	eventually(t, 60*time.Second, func() bool { return consumed(a) >= aBefore+30 }, "instance A to keep consuming beside B")
	a.stop()
	bBefore := consumed(b)
	eventually(t, 60*time.Second, func() bool { return consumed(b) >= bBefore+60 }, "instance B to take over A's partitions")
	close(stopProducing)
	<-producerDone

	total := int(produced.Load())
	eventually(t, 60*time.Second, func() bool { return len(gw.delivered(fn("alpha"))) == total },
		"all %d messages to be delivered (got %d)", total, func() any { return len(gw.delivered(fn("alpha"))) })
	k.waitCommittedToEnd(t, cfg.Group, topic)
	dups := 0
	for _, n := range gw.delivered(fn("alpha")) {
		dups += n - 1
	}
	t.Logf("%d messages, %d redelivered across the rebalances", total, dups)
	gw.checkOrder(t, true)
}

func testDiscovery(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 1)
	gw.deploy("alpha", topic, nil)
	gw.deploy("beta", "", nil)
	cfg := testConfig(t, brokers, gw, topic)
	start(t, cfg)

	produceSeq(t, k, topic, 1, 0, 1)
	k.waitCommittedToEnd(t, cfg.Group, topic)

	gw.deploy("beta", "unrelated,"+topic, nil)
	gw.waitLists(t, 2)
	produceSeq(t, k, topic, 1, 1, 2)
	k.waitCommittedToEnd(t, cfg.Group, topic)

	gw.deploy("alpha", "", nil)
	gw.waitLists(t, 2)
	produceSeq(t, k, topic, 1, 2, 3)
	k.waitCommittedToEnd(t, cfg.Group, topic)

	ids := func(f string) string { return strings.Join(sortedKeys(gw.delivered(f)), " ") }
	m := func(i int) string { return fmt.Sprintf("%s/0/%d", topic, i) }
	if got, want := ids(fn("alpha")), m(0)+" "+m(1); got != want {
		t.Errorf("alpha got %q, want %q", got, want)
	}
	if got, want := ids(fn("beta")), m(1)+" "+m(2); got != want {
		t.Errorf("beta got %q, want %q", got, want)
	}
}

func testUnrouted(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 2)
	cfg := testConfig(t, brokers, gw, topic)
	c := start(t, cfg)
	produceSeq(t, k, topic, 2, 0, 6)
	k.waitCommittedToEnd(t, cfg.Group, topic)
	if got := metric(t, c.reg, "kafka_connector_unrouted_messages_total", map[string]string{"topic": topic}); got != 6 {
		t.Errorf("unrouted_messages_total = %v, want 6", got)
	}

	gw.deploy("alpha", topic, nil)
	gw.waitLists(t, 2)
	produceSeq(t, k, topic, 2, 6, 8)
	k.waitCommittedToEnd(t, cfg.Group, topic)
	if got := len(gw.delivered(fn("alpha"))); got != 2 {
		t.Errorf("alpha got %d messages, want only the 2 sent after it subscribed", got)
	}
}

func testWaitsForTopic(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	gw.deploy("alpha", topic, nil)
	cfg := testConfig(t, brokers, gw, topic)
	c := start(t, cfg)
	eventually(t, 30*time.Second, func() bool { return k.topicExists(t, kafkaconnector.DeadLetterTopic(topic)) },
		"the connector to create the dead-letter topic")
	if c.Ready() {
		t.Error("the connector is ready although its topic does not exist")
	}
	k.createTopic(t, topic, 2)
	produceSeq(t, k, topic, 2, 0, 4)
	eventually(t, 60*time.Second, func() bool { return len(gw.delivered(fn("alpha"))) == 4 }, "4 deliveries after the topic was created")
	if !c.Ready() {
		t.Error("the connector is consuming but not ready")
	}
}

func testCreatesTopics(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	gw.deploy("alpha", topic, nil)
	cfg := testConfig(t, brokers, gw, topic)
	cfg.CreateTopics, cfg.TopicPartitions = true, 3
	start(t, cfg)
	eventually(t, 30*time.Second, func() bool { return k.topicExists(t, topic) }, "the connector to create the consumed topic")
	if got := len(k.endOffsets(t, topic)); got != 3 {
		t.Fatalf("the created topic has %d partitions, want 3", got)
	}
	produceSeq(t, k, topic, 3, 0, 6)
	eventually(t, 60*time.Second, func() bool { return len(gw.delivered(fn("alpha"))) == 6 }, "6 deliveries")
}

// testLateSubscriber: a function deployed after the connector read the gateway, long before its next
// periodic refresh, still gets the messages (a fresh deployment whose connector started first).
func testLateSubscriber(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 1)
	cfg := testConfig(t, brokers, gw, topic)
	cfg.RebuildInterval = time.Hour
	start(t, cfg)
	gw.waitLists(t, 1)
	gw.deploy("alpha", topic, nil)
	produceSeq(t, k, topic, 1, 0, 2)
	k.waitCommittedToEnd(t, cfg.Group, topic)
	if got := len(gw.delivered(fn("alpha"))); got != 2 {
		t.Errorf("alpha got %d messages, want 2", got)
	}
}

// testRedrive: dead letters are listed with what failed, and redriven to their source topic with
// their key and headers (no dlq-* ones), by range and then all, each message once however often the
// redrive runs.
func testRedrive(t *testing.T, brokers []string) {
	k := newCluster(t, brokers)
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 2)
	var fixed atomic.Bool
	gw.deploy("alpha", topic, func(_ *http.Request, inv invocation) int {
		if (string(inv.Body) == "m-1" || string(inv.Body) == "m-2") && !fixed.Load() {
			return http.StatusUnprocessableEntity // a bug in the function, fixed later
		}
		return http.StatusOK
	})
	produceSeq(t, k, topic, 2, 0, 4)
	cfg := testConfig(t, brokers, gw, topic)
	start(t, cfg)
	k.readAll(t, kafkaconnector.DeadLetterTopic(topic), 2)
	k.waitCommittedToEnd(t, cfg.Group, topic)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := kafkaconnector.NewDLQAdmin(brokers, uniqueName(t, "redrive"))
	t.Cleanup(func() { _ = admin.Close() })
	list := func() []kafkaconnector.DeadLetter {
		t.Helper()
		dls, err := admin.List(ctx, topic, kafkaconnector.AllDeadLetters)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		return dls
	}
	dls := list()
	if len(dls) != 2 {
		t.Fatalf("listed %d dead letters, want 2: %+v", len(dls), dls)
	}
	for _, d := range dls {
		if d.Redriven || d.Topic != topic || d.Function != fn("alpha") || d.Status != "422" || d.Attempts != "1" ||
			!strings.Contains(d.Error, "422") || !strings.HasPrefix(d.MessageID, topic+"/") {
			t.Errorf("dead letter listed as %+v", d)
		}
	}

	fixed.Store(true)
	first := dls[0]
	res, err := admin.Redrive(ctx, kafkaconnector.DeadLetterTopic(topic),
		kafkaconnector.DLQRange{Partition: first.Partition, From: first.Offset, To: first.Offset})
	if err != nil || res.Republished != 1 {
		t.Fatalf("redrive of %s: %+v, %v; want 1 republished", first, res, err)
	}
	value := string(first.Value)
	eventually(t, 60*time.Second, func() bool { return countDelivered(gw, value) == 1 }, "the redriven %s to be delivered", value)
	res, err = admin.Redrive(ctx, topic, kafkaconnector.AllDeadLetters)
	if err != nil || res.Republished != 1 || res.Skipped != 1 {
		t.Fatalf("redrive of all: %+v, %v; want 1 republished and 1 skipped", res, err)
	}
	eventually(t, 60*time.Second, func() bool { return countDelivered(gw, "m-1") == 1 && countDelivered(gw, "m-2") == 1 },
		"m-1 and m-2 to be delivered after the redrive")
	res, err = admin.Redrive(ctx, topic, kafkaconnector.AllDeadLetters)
	if err != nil || res.Republished != 0 {
		t.Fatalf("a second redrive of all: %+v, %v; want nothing republished", res, err)
	}
	for _, d := range list() {
		if !d.Redriven {
			t.Errorf("%s not listed as redriven", d)
		}
	}
	k.waitCommittedToEnd(t, cfg.Group, topic)
	var total int64
	for _, end := range k.endOffsets(t, topic) {
		total += end
	}
	if total != 6 {
		t.Errorf("%s holds %d messages, want 6: the 4 produced and the 2 redriven once each", topic, total)
	}
	for _, inv := range gw.calls(fn("alpha")) {
		b := string(inv.Body)
		if inv.Status != http.StatusOK || (b != "m-1" && b != "m-2") {
			continue
		}
		if inv.Header.Get("X-Kafka-Key") != "key-"+b || inv.Header.Get("X-Kafka-Trace-Id") != "trace-"+b {
			t.Errorf("redriven %s lost its key or headers: %v", b, inv.Header)
		}
		for name := range inv.Header {
			if strings.HasPrefix(strings.ToLower(name), "x-kafka-dlq-") {
				t.Errorf("redriven %s carries %s", b, name)
			}
		}
	}
}

// countDelivered counts the 2xx answers alpha gave for messages whose value is body.
func countDelivered(gw *fakeGateway, body string) int {
	n := 0
	for _, inv := range gw.calls(fn("alpha")) {
		if string(inv.Body) == body && inv.Status/100 == 2 {
			n++
		}
	}
	return n
}
