package kafkaconnector_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRejoinAfterBrokerRestart measures how long the connector takes, after a real broker restarted
// and is ready again, to deliver the next message: broker ready → first delivery. It restarts the
// broker of KAFKA_STATE (started with `.ci/kafka up`) several times, the restarts less than a
// session timeout apart, and reports each figure; it fails when one exceeds the bound below.
//
// It stops the shared broker, so it runs only when asked: KAFKA_RESTART_TEST=1 with KAFKA_STATE and
// KAFKA_BROKERS exported, and no other suite using the broker meanwhile. kfake cannot stand in: a
// restarted kfake cluster forgets its groups, so the old member's session (the cause of the wait)
// is not there to wait out.
func TestRejoinAfterBrokerRestart(t *testing.T) {
	state, brokers := os.Getenv("KAFKA_STATE"), os.Getenv("KAFKA_BROKERS")
	if os.Getenv("KAFKA_RESTART_TEST") != "1" || state == "" || brokers == "" {
		t.Skip("set KAFKA_RESTART_TEST=1 with KAFKA_STATE and KAFKA_BROKERS from `.ci/kafka up`: the test stops that broker")
	}
	k := newCluster(t, strings.Split(brokers, ","))
	gw := newFakeGateway(t)
	topic := uniqueName(t, "topic")
	k.createTopic(t, topic, 1)
	gw.deploy("alpha", topic, nil)
	cfg := testConfig(t, k.brokers, gw, topic)
	// The settings the connector ships with, not the suite's short ones: the wait being measured is
	// the broker's, driven by them.
	cfg.SessionTimeout, cfg.HeartbeatInterval, cfg.RebalanceTimeout = 0, 0, 0
	start(t, cfg)

	produceRetrying(t, k, message(topic, 0, "m-0"))
	eventually(t, 60*time.Second, func() bool { return len(gw.delivered(fn("alpha"))) == 1 }, "the first delivery")

	const restarts = 5
	var figures []time.Duration
	for i := 1; i <= restarts; i++ {
		ciKafka(t, "stop")
		ciKafka(t, "up")
		ready := time.Now()
		produceRetrying(t, k, message(topic, 0, fmt.Sprintf("m-%d", i)))
		eventually(t, 3*time.Minute, func() bool { return len(gw.delivered(fn("alpha"))) == i+1 },
			"delivery %d after restart %d", i+1, i)
		took := time.Since(ready)
		figures = append(figures, took)
		t.Logf("restart %d: broker ready → first delivery %s", i, took.Round(10*time.Millisecond))
	}
	t.Logf("broker ready → first delivery over %d restarts: %v", restarts, figures)
	for i, d := range figures {
		if d > rejoinBound {
			t.Errorf("restart %d: the connector delivered %s after the broker was ready, want at most %s", i+1, d, rejoinBound)
		}
	}
}

// rejoinBound is the most the connector may take from a restarted broker being ready to its first
// delivery: well below the 30s the old session used to cost.
const rejoinBound = 15 * time.Second

// ciKafka runs `.ci/kafka <verb>` on the broker of KAFKA_STATE.
func ciKafka(t *testing.T, verb string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "../.ci/kafka", verb).CombinedOutput()
	if err != nil {
		t.Fatalf(".ci/kafka %s: %v\n%s", verb, err, out)
	}
}

// produceRetrying produces r, retrying while the broker is still electing leaders after a restart.
func produceRetrying(t *testing.T, k *cluster, r *kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		err := k.client.ProduceSync(ctx, r).FirstErr()
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("produce after restart: %v", err)
		}
		r.Partition = 0
		time.Sleep(100 * time.Millisecond) // the broker is not ready yet; try again
	}
}
