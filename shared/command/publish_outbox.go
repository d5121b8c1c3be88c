package command

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// DefaultOutboxBatch is how many queued events PublishOutbox publishes per round trip.
const DefaultOutboxBatch = 500

// DefaultOutboxLease is how long a relay holds the events it claimed: the longest a crashed relay's
// events wait before another relay takes them.
const DefaultOutboxLease = time.Minute

// PublishOutbox publishes the events queued for Topic, oldest first, and removes each one once the
// broker acknowledged it.
//
// Concurrent relays (goroutines, processes, replicas) do not publish the same event: each run claims
// the batch it publishes for Lease (see OutboxStore.ClaimOutbox), publishes within three quarters of
// it, and releases what it could not publish. A relay that dies holding a claim leaves its events for
// the next run after the lease; a crash between publish and removal publishes them again
// (at-least-once). Concurrent relays publish disjoint batches, so two events of one key may reach the
// broker in either order when two relays run at once; one relay keeps the order.
//
// An event the broker refuses for good (stockalert.ErrUnpublishable: too large for the topic, an
// invalid topic or record) is parked with the reason — moved aside for an operator, counted in
// stockalert_outbox_parked_total{topic} and named on the use case's log line — and the events after it
// go on. Any other failure leaves the events that failed queued for the next call, so none is lost: a
// missing write ACL for the topic too, since fixing the ACL heals it (the publisher logs it loudly).
type PublishOutbox struct {
	Topic     string
	BatchSize int           // DefaultOutboxBatch when 0
	Lease     time.Duration // DefaultOutboxLease when 0
}

// OutboxStore holds queued events.
type OutboxStore interface {
	// ClaimOutbox claims for claimant, for lease, up to limit queued messages of topic that no other
	// relay holds, oldest first, and returns them.
	ClaimOutbox(ctx context.Context, claimant, topic string, limit int, lease time.Duration) ([]stockalert.OutboxMessage, error)
	// ReleaseOutbox gives up claimant's claim on the messages ids still queued.
	ReleaseOutbox(ctx context.Context, claimant string, ids []int64) error
	// DeleteOutbox removes published messages by id.
	DeleteOutbox(ctx context.Context, ids []int64) error
	// ParkOutbox moves messages (by ID) out of the queue with their Reason, for an operator.
	ParkOutbox(ctx context.Context, msgs ...stockalert.ParkedMessage) error
}

// Publisher sends messages to the broker.
type Publisher interface {
	// Publish returns nil only when every message was acknowledged. When some failed, its error wraps a
	// stockalert.PublishErrors with one entry per message (nil: acknowledged; wrapping
	// stockalert.ErrUnpublishable: can never succeed); any other error applies to every message.
	Publish(ctx context.Context, msgs ...stockalert.OutboxMessage) error
}

// PublishOutboxHandler handles PublishOutbox: nil when every claimed event was published or parked; an
// error when the store or the broker failed (the events not published stay queued).
type PublishOutboxHandler decorator.CommandHandler[PublishOutbox]

// NewPublishOutboxHandler builds the handler; m (may be nil) also counts parked events.
func NewPublishOutboxHandler(store OutboxStore, pub Publisher, logger *slog.Logger, m *decorator.Metrics) PublishOutboxHandler {
	return decorator.ApplyCommand[PublishOutbox](publishOutboxHandler{store, pub, m}, logger, m)
}

type publishOutboxHandler struct {
	store   OutboxStore
	pub     Publisher
	metrics *decorator.Metrics
}

func (h publishOutboxHandler) Handle(ctx context.Context, cmd PublishOutbox) error {
	size := cmd.BatchSize
	if size <= 0 {
		size = DefaultOutboxBatch
	}
	lease := cmd.Lease
	if lease <= 0 {
		lease = DefaultOutboxLease
	}
	claimant := rand.Text()
	var parked []stockalert.ParkedMessage
	defer func() {
		if len(parked) > 0 {
			ids := make([]int64, len(parked))
			for i, p := range parked {
				ids[i] = p.ID
			}
			decorator.Report(ctx, slog.LevelWarn, "outbox events parked", slog.String("event", "outbox-parked"),
				slog.String("topic", cmd.Topic), slog.Int("parked", len(parked)), slog.Any("outbox_ids", ids),
				slog.String("reason", parked[0].Reason))
		}
	}()
	for {
		msgs, err := h.store.ClaimOutbox(ctx, claimant, cmd.Topic, size, lease)
		if err != nil {
			return fmt.Errorf("read outbox of %s: %w", cmd.Topic, err)
		}
		if len(msgs) == 0 {
			return nil
		}
		pctx, cancel := context.WithTimeout(ctx, lease*3/4) // done before the claim ends
		errs := outcomes(h.pub.Publish(pctx, msgs...), len(msgs))
		cancel()

		var done, failed []int64
		var park []stockalert.ParkedMessage
		var firstErr error
		for i, m := range msgs {
			switch e := errs[i]; {
			case e == nil:
				done = append(done, m.ID)
			case errors.Is(e, stockalert.ErrUnpublishable):
				park = append(park, stockalert.ParkedMessage{OutboxMessage: m, Reason: e.Error()})
			default:
				failed = append(failed, m.ID)
				if firstErr == nil {
					firstErr = e
				}
			}
		}
		if len(done) > 0 {
			if err := h.store.DeleteOutbox(ctx, done); err != nil {
				return fmt.Errorf("clear %d published events of %s: %w", len(done), cmd.Topic, err)
			}
		}
		if len(park) > 0 {
			if err := h.store.ParkOutbox(ctx, park...); err != nil {
				return fmt.Errorf("park %d events of %s: %w", len(park), cmd.Topic, err)
			}
			parked = append(parked, park...)
			h.metrics.CountParked(cmd.Topic, len(park))
		}
		if len(failed) > 0 {
			err := fmt.Errorf("publish %d of %d events to %s: %w", len(failed), len(msgs), cmd.Topic, firstErr)
			if rerr := h.store.ReleaseOutbox(context.WithoutCancel(ctx), claimant, failed); rerr != nil {
				err = errors.Join(err, fmt.Errorf("release them: %w", rerr))
			}
			return err
		}
		if len(msgs) < size {
			return nil
		}
	}
}

// outcomes spreads a Publish error over n messages: per message when it wraps a
// stockalert.PublishErrors of n entries, the same error for each otherwise.
func outcomes(err error, n int) []error {
	errs := make([]error, n)
	if err == nil {
		return errs
	}
	var per stockalert.PublishErrors
	if errors.As(err, &per) && len(per) == n {
		return per
	}
	for i := range errs {
		errs[i] = err
	}
	return errs
}
