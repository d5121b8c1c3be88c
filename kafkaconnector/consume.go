package kafkaconnector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// fetchMaxWait is kafka-go's read deadline for one fetch: it asks the broker to answer an idle
// fetch 1s sooner (kafka-go's allowance for the round trip) and gives up on the connection after
// this. Closing a reader can take as long, so readers are closed in the background (see
// Connector.readers). Tests shorten it (Connector.fetchMaxWait) so that stopping is quick.
const fetchMaxWait = 2 * time.Second

// consume takes part in the consumer group until ctx is cancelled, running each generation's
// partitions, then drains the last generation and leaves the group.
func (c *Connector) consume(ctx context.Context) error {
	start := kafka.FirstOffset
	if c.cfg.InitialOffset == OffsetLatest {
		start = kafka.LastOffset
	}
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                    c.cfg.Group,
		Brokers:               c.cfg.Brokers,
		Dialer:                c.dialer,
		Topics:                c.consumed(),
		HeartbeatInterval:     c.cfg.HeartbeatInterval,
		SessionTimeout:        c.cfg.SessionTimeout,
		RebalanceTimeout:      c.cfg.RebalanceTimeout,
		JoinGroupBackoff:      time.Second,
		WatchPartitionChanges: true,
		StartOffset:           start,
		Logger:                kafkaLogger(c.log, slog.LevelDebug),
		ErrorLogger:           kafkaLogger(c.log, slog.LevelWarn),
	})
	if err != nil {
		return fmt.Errorf("connector: consumer group %s: %w", c.cfg.Group, err)
	}
	// Invocations may outlive ctx by ShutdownTimeout.
	workCtx, stopWork := afterGrace(ctx, c.cfg.ShutdownTimeout)
	defer stopWork()

	var last chan struct{}
	var member string // of the last generation joined
	var evictions sync.WaitGroup
	stopEvicting := func() {}
	defer evictions.Wait()
	defer func() { stopEvicting() }()
	for {
		gen, err := group.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			c.log.Warn("join consumer group; retrying", "group", c.cfg.Group, "err", err)
			if member != "" && !errors.Is(err, kafka.RebalanceInProgress) {
				// kafka-go now forgets its member id and joins as a new member; its own LeaveGroup
				// for the old id failed when the coordinator was away (a broker restart). Until the
				// old member leaves, the broker holds the new join for the old one's session.
				stopEvicting()
				stopEvicting = c.startEviction(ctx, member, &evictions)
				member = ""
			}
			continue
		}
		stopEvicting() // joined: the old member is gone
		member = gen.MemberID
		drained := make(chan struct{})
		gen.Start(func(genCtx context.Context) {
			c.runGeneration(ctx, workCtx, genCtx, gen)
			close(drained)
			// Hold the generation until the group ends it: a rebalance, or Close below. Returning
			// would end it at once and make the group rejoin.
			<-genCtx.Done()
		})
		last = drained
	}
	if last != nil {
		<-last // the last generation has stopped fetching, finished or abandoned, and committed
	}
	return group.Close()
}

// startEviction runs evictMember for member in the background, on wg, until it is done or the
// returned func is called.
func (c *Connector) startEviction(ctx context.Context, member string, wg *sync.WaitGroup) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	wg.Go(func() { c.evictMember(ctx, member) })
	return cancel
}

// evictMember asks the group coordinator to remove the member id this connector held before kafka-go
// dropped it, retrying while the coordinator is unreachable or loading, until the member is gone
// (removed now, or unknown: expired or already left) or ctx ends (the caller ends it once a new
// generation is joined). A restarted broker reloads the group with its members and starts their
// sessions afresh; without this the connector's new join waits out the old member's session.
func (c *Connector) evictMember(ctx context.Context, member string) {
	log := c.log.With("group", c.cfg.Group, "member", member)
	policy := retryPolicy{initial: 100 * time.Millisecond, max: time.Second}
	_, err := policy.do(ctx, func() error {
		resp, err := c.admin.LeaveGroup(ctx, &kafka.LeaveGroupRequest{GroupID: c.cfg.Group,
			Members: []kafka.LeaveGroupRequestMember{{ID: member}}})
		if err == nil {
			err = resp.Error
			for _, m := range resp.Members {
				err = errors.Join(err, m.Error)
			}
		}
		switch {
		case err == nil:
			log.Info("previous member left the group: the new one need not wait out its session")
			return nil
		case errors.Is(err, kafka.UnknownMemberId):
			return nil
		case ctx.Err() != nil:
			return err
		}
		return transient{err}
	}, nil)
	if err != nil && ctx.Err() == nil {
		log.Warn("previous member could not be removed; the broker expires it after session_timeout", "err", err)
	}
}

// runGeneration consumes each partition assigned in gen with its own reader and worker until the
// generation ends (partitions are revoked: in-flight invocations are abandoned) or runCtx is
// cancelled (fetching stops; in-flight invocations run until workCtx ends). Then it commits the
// offsets of every finished message.
func (c *Connector) runGeneration(runCtx, workCtx, genCtx context.Context, gen *kafka.Generation) {
	log := c.log.With("group", gen.GroupID, "generation", gen.ID)
	fetchCtx, stopFetch := withCancelOn(runCtx, genCtx)
	defer stopFetch()
	invokeCtx, stopInvoke := withCancelOn(workCtx, genCtx)
	defer stopInvoke()

	var assigned []string
	for topic, parts := range gen.Assignments {
		for _, p := range parts {
			assigned = append(assigned, topic+"/"+strconv.Itoa(p.ID))
		}
	}
	slices.Sort(assigned)
	log.Info("partitions assigned", "member", gen.MemberID, "partitions", assigned)

	commits := newCommitter(gen, c.metrics, log)
	commitCtx, stopCommits := context.WithCancel(context.Background())
	var committer sync.WaitGroup
	committer.Go(func() { commits.run(commitCtx, c.cfg.CommitInterval) })

	var workers sync.WaitGroup
	for topic, parts := range gen.Assignments {
		for _, p := range parts {
			workers.Go(func() { c.consumePartition(fetchCtx, invokeCtx, topic, p, commits, log) })
		}
	}
	workers.Wait()
	stopCommits()
	committer.Wait()
	if err := commits.flush(); err == nil && len(assigned) > 0 {
		log.Info("partitions released; finished messages committed", "partitions", assigned)
	}
}

// consumePartition fetches one partition in order and hands each message to delivery; the next
// message is fetched only when the previous one is finished, and its offset is then marked for
// commit. It returns when fetchCtx ends, or when a message is abandoned because invokeCtx ended.
func (c *Connector) consumePartition(fetchCtx, invokeCtx context.Context, topic string, a kafka.PartitionAssignment,
	commits *committer, log *slog.Logger) {
	log = log.With("topic", topic, "partition", a.ID)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   c.cfg.Brokers,
		Dialer:    c.dialer,
		Topic:     topic,
		Partition: a.ID,
		MinBytes:  1,
		MaxBytes:  c.cfg.MaxBytes,
		MaxWait:   c.fetchMaxWait,
		// The lag gauge comes from each message's high watermark; kafka-go's own lag poller would
		// open one more connection per partition.
		ReadLagInterval: -1,
		ErrorLogger:     partitionLogger(fetchCtx, log, slog.LevelWarn),
	})
	// The partition is handed over without waiting for the reader's pending fetch; Run waits for
	// the closes before it returns.
	defer c.readers.Go(func() {
		if err := r.Close(); err != nil {
			log.Warn("close partition reader", "err", err)
		}
	})
	if err := r.SetOffset(a.Offset); err != nil {
		log.Error("set start offset", "offset", a.Offset, "err", err) // cannot happen on a new reader
		return
	}
	partition := strconv.Itoa(a.ID)
	lag := c.metrics.lag.WithLabelValues(topic, partition)
	defer c.metrics.lag.DeleteLabelValues(topic, partition)
	consumed := c.metrics.consumed.WithLabelValues(topic)

	for fetchCtx.Err() == nil {
		m, err := r.FetchMessage(fetchCtx)
		if err != nil {
			if fetchCtx.Err() != nil {
				return
			}
			log.Warn("fetch failed; retrying", "err", err)
			select {
			case <-fetchCtx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		consumed.Inc()
		handle := c.delivery.handle
		if c.delivery.isParked(topic) {
			handle = func(ctx context.Context, m kafka.Message) error { return c.delivery.handleParked(fetchCtx, ctx, m) }
		}
		if err := handle(invokeCtx, m); err != nil {
			log.Info("message abandoned; it will be delivered again", "message_id", MessageID(m), "err", err)
			return
		}
		commits.mark(topic, a.ID, m.Offset+1)
		lag.Set(float64(max(m.HighWaterMark-m.Offset-1, 0)))
	}
}

// withCancelOn returns a context derived from parent that also ends when other does.
func withCancelOn(parent, other context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	stop := context.AfterFunc(other, cancel)
	return ctx, func() { stop(); cancel() }
}

// afterGrace returns a context that ends grace after ctx ends, or when the returned func is called.
func afterGrace(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	graceCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var mu sync.Mutex
	var timer *time.Timer
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		timer = time.AfterFunc(grace, cancel)
		mu.Unlock()
	})
	return graceCtx, func() {
		stop()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}
