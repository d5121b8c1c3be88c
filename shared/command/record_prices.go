package command

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// RecordPrices stores a batch of quotes and, in the same transaction, queues one PriceEvent on the
// prices topic (stockalert.TopicPrices in production) for every quote of Quotes not recorded before.
// Stale quotes (stockalert.IsStale: the symbol has stopped trading) are recorded too, as their
// ticker's last trade for readers to show, but queue nothing: no alert is evaluated on them.
// Recording the same (ticker, time) twice changes nothing and queues nothing, so a retried batch is
// harmless.
type RecordPrices struct {
	Quotes []stockalert.Quote
	Stale  []stockalert.Quote
}

// outboxWriter queues events in the transaction of the change they announce.
type outboxWriter interface {
	// AppendOutbox queues messages for publishing.
	AppendOutbox(ctx context.Context, msgs ...stockalert.OutboxMessage) error
}

// PriceRecorder stores prices.
type PriceRecorder interface {
	Transactor
	// RecordPrices stores the quotes whose (ticker, time) is not recorded yet and returns those.
	RecordPrices(ctx context.Context, quotes []stockalert.Quote) ([]stockalert.Quote, error)
	outboxWriter
}

// RecordPricesHandler handles RecordPrices: *stockalert.ValidationError naming the bad quote
// ("quotes[3].price", "stale[0].currency") and nothing written; store faults otherwise.
type RecordPricesHandler decorator.CommandHandler[RecordPrices]

// NewRecordPricesHandler builds the handler over store, queuing events on topic.
func NewRecordPricesHandler(store PriceRecorder, topic string, logger *slog.Logger, m *decorator.Metrics) RecordPricesHandler {
	return decorator.ApplyCommand[RecordPrices](recordPricesHandler{store, topic}, logger, m)
}

type recordPricesHandler struct {
	store PriceRecorder
	topic string
}

type quoteKey struct {
	ticker stockalert.Ticker
	ms     int64
}

func (h recordPricesHandler) Handle(ctx context.Context, cmd RecordPrices) error {
	quotes := make([]stockalert.Quote, 0, len(cmd.Quotes)+len(cmd.Stale))
	// announce tells the quotes to queue an event for from the stale ones; a key in both is stale.
	announce := make(map[quoteKey]bool, len(cmd.Quotes)+len(cmd.Stale))
	for _, batch := range []struct {
		field    string
		quotes   []stockalert.Quote
		announce bool
	}{{"stale", cmd.Stale, false}, {"quotes", cmd.Quotes, true}} {
		for i, q := range batch.quotes {
			if err := q.Validate(); err != nil {
				v, _ := stockalert.AsValidation(err)
				return stockalert.Invalid(fmt.Sprintf("%s[%d].%s", batch.field, i, v.Field), "%s", v.Reason)
			}
			k := quoteKey{q.Ticker, q.Time.UnixMilli()}
			if _, seen := announce[k]; !seen {
				announce[k] = batch.announce
				quotes = append(quotes, q)
			}
		}
	}
	if len(quotes) == 0 {
		return nil
	}
	return h.store.InTx(ctx, func(ctx context.Context) error {
		fresh, err := h.store.RecordPrices(ctx, quotes)
		if err != nil {
			return fmt.Errorf("record %d prices: %w", len(quotes), err)
		}
		msgs := make([]stockalert.OutboxMessage, 0, len(fresh))
		for _, q := range fresh {
			if !announce[quoteKey{q.Ticker, q.Time.UnixMilli()}] {
				continue // stale: recorded as the last trade, not a price event
			}
			id, err := uuid.NewV7()
			if err != nil {
				return fmt.Errorf("event id: %w", err)
			}
			q.Time = q.Time.UTC()
			ev := stockalert.NewPriceEvent(id.String(), q)
			body, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("encode price event %s: %w", q.Ticker, err)
			}
			msgs = append(msgs, stockalert.OutboxMessage{Topic: h.topic, Key: string(q.Ticker), Value: body})
		}
		if err := h.store.AppendOutbox(ctx, msgs...); err != nil {
			return fmt.Errorf("queue %d price events: %w", len(msgs), err)
		}
		return nil
	})
}
