package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// DefaultOutboxBatch is how many queued events PublishOutbox publishes per round trip.
const DefaultOutboxBatch = 500

// PublishOutbox publishes the events queued for Topic, oldest first, and removes each batch once the
// broker acknowledged it. Events that cannot be published stay queued for the next call, so none is
// lost; a crash between publish and removal publishes a batch twice (at-least-once).
type PublishOutbox struct {
	Topic     string
	BatchSize int // DefaultOutboxBatch when 0
}

// OutboxStore holds queued events.
type OutboxStore interface {
	// PendingOutbox returns up to limit queued messages of topic, oldest first.
	PendingOutbox(ctx context.Context, topic string, limit int) ([]stockalert.OutboxMessage, error)
	// DeleteOutbox removes published messages by id.
	DeleteOutbox(ctx context.Context, ids []int64) error
}

// Publisher sends messages to the broker.
type Publisher interface {
	// Publish returns nil only when every message was acknowledged.
	Publish(ctx context.Context, msgs ...stockalert.OutboxMessage) error
}

// PublishOutboxHandler handles PublishOutbox: an error when the store or the broker fails (the
// unpublished events stay queued).
type PublishOutboxHandler decorator.CommandHandler[PublishOutbox]

// NewPublishOutboxHandler builds the handler.
func NewPublishOutboxHandler(store OutboxStore, pub Publisher, logger *slog.Logger, m *decorator.Metrics) PublishOutboxHandler {
	return decorator.ApplyCommand[PublishOutbox](publishOutboxHandler{store, pub}, logger, m)
}

type publishOutboxHandler struct {
	store OutboxStore
	pub   Publisher
}

func (h publishOutboxHandler) Handle(ctx context.Context, cmd PublishOutbox) error {
	size := cmd.BatchSize
	if size <= 0 {
		size = DefaultOutboxBatch
	}
	for {
		msgs, err := h.store.PendingOutbox(ctx, cmd.Topic, size)
		if err != nil {
			return fmt.Errorf("read outbox of %s: %w", cmd.Topic, err)
		}
		if len(msgs) == 0 {
			return nil
		}
		if err := h.pub.Publish(ctx, msgs...); err != nil {
			return fmt.Errorf("publish %d events to %s: %w", len(msgs), cmd.Topic, err)
		}
		ids := make([]int64, len(msgs))
		for i, m := range msgs {
			ids[i] = m.ID
		}
		if err := h.store.DeleteOutbox(ctx, ids); err != nil {
			return fmt.Errorf("clear %d published events of %s: %w", len(ids), cmd.Topic, err)
		}
		if len(msgs) < size {
			return nil
		}
	}
}
