package kafkaconnector

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"
)

// offsetCommitter commits offsets within one consumer group generation (kafka.Generation).
type offsetCommitter interface {
	CommitOffsets(offsets map[string]map[int]int64) error
}

// committer coalesces the finished offsets of a generation's partitions into as few commits as
// possible. Workers mark a partition's next offset only after every earlier message of the
// partition is finished, so a commit never passes an unfinished message.
type committer struct {
	gen     offsetCommitter
	metrics *metrics
	log     *slog.Logger

	mu        sync.Mutex
	finished  map[string]map[int]int64 // next offset to read, per topic and partition
	committed map[string]map[int]int64
	wake      chan struct{}
	flushMu   sync.Mutex // one commit at a time
}

func newCommitter(gen offsetCommitter, m *metrics, log *slog.Logger) *committer {
	return &committer{gen: gen, metrics: m, log: log,
		finished: map[string]map[int]int64{}, committed: map[string]map[int]int64{},
		wake: make(chan struct{}, 1)}
}

// mark records that every message of topic/partition before next is finished.
func (c *committer) mark(topic string, partition int, next int64) {
	c.mu.Lock()
	if c.finished[topic] == nil {
		c.finished[topic] = map[int]int64{}
	}
	c.finished[topic][partition] = next
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// run commits whenever something was marked, waiting at least interval between commits, until ctx
// is done. Call flush after it returns for the last marks.
func (c *committer) run(ctx context.Context, interval time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		}
		_ = c.flush()
		if interval > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(interval):
			}
		}
	}
}

// flush commits every finished offset not committed yet. A failed commit is logged and counted and
// its offsets stay pending, to be tried by the next flush.
func (c *committer) flush() error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	pending := map[string]map[int]int64{}
	for t, parts := range c.finished {
		for p, next := range parts {
			if done, ok := c.committed[t][p]; !ok || done != next {
				if pending[t] == nil {
					pending[t] = map[int]int64{}
				}
				pending[t][p] = next
			}
		}
	}
	c.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	if err := c.gen.CommitOffsets(pending); err != nil {
		c.metrics.commitErrors.Inc()
		c.log.Warn("commit offsets failed; their messages may be delivered again", "offsets", pending, "err", err)
		return err
	}
	c.mu.Lock()
	for t, parts := range pending {
		if c.committed[t] == nil {
			c.committed[t] = map[int]int64{}
		}
		maps.Copy(c.committed[t], parts)
	}
	c.mu.Unlock()
	return nil
}
