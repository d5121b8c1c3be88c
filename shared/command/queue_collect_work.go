package command

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// QueueCollectWork queues the batches of a fanned-out collection, one stockalert.CollectWork per
// message keyed by stockalert.CollectWorkKey, in the outbox (one write), for PublishOutbox to publish:
// a broker outage loses no batch, the next run publishes it.
type QueueCollectWork struct {
	Work []stockalert.CollectWork
}

// QueueCollectWorkHandler handles QueueCollectWork: a *stockalert.ValidationError naming the bad batch
// ("work[2].tickers") and nothing queued; store faults otherwise.
type QueueCollectWorkHandler decorator.CommandHandler[QueueCollectWork]

// NewQueueCollectWorkHandler builds the handler over store, queuing on topic
// (stockalert.TopicCollect in production).
func NewQueueCollectWorkHandler(store outboxAppender, topic string, logger *slog.Logger, m *decorator.Metrics) QueueCollectWorkHandler {
	return decorator.ApplyCommand[QueueCollectWork](queueCollectWorkHandler{store, topic}, logger, m)
}

type queueCollectWorkHandler struct {
	store outboxAppender
	topic string
}

func (h queueCollectWorkHandler) Handle(ctx context.Context, cmd QueueCollectWork) error {
	msgs := make([]stockalert.OutboxMessage, 0, len(cmd.Work))
	for i, w := range cmd.Work {
		if err := w.Validate(); err != nil {
			v, _ := stockalert.AsValidation(err)
			return stockalert.Invalid(fmt.Sprintf("work[%d].%s", i, v.Field), "%s", v.Reason)
		}
		body, err := json.Marshal(w)
		if err != nil {
			return fmt.Errorf("encode collect work %d of run %s: %w", w.Batch, w.RunID, err)
		}
		msgs = append(msgs, stockalert.OutboxMessage{Topic: h.topic, Key: stockalert.CollectWorkKey(w.Batch), Value: body})
	}
	if len(msgs) == 0 {
		return nil
	}
	if err := h.store.AppendOutbox(ctx, msgs...); err != nil {
		return fmt.Errorf("queue %d collect batches: %w", len(msgs), err)
	}
	return nil
}
