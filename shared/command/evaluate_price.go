package command

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// EvaluatePrice applies the alert policy to a price event: every subscription of the ticker that the
// price breaches and that the policy says to alert gets an AlertEvent queued on the alerts topic
// (stockalert.TopicAlerts in production), and its state records the alert; subscriptions the price is back inside re-arm.
// All in one transaction. The alert ids derive from the event id, so handling a redelivered event never
// yields a second, different alert. An event whose quote is older than one already evaluated for its
// ticker (it was retried, or parked by the connector, while a newer price went through) changes nothing:
// the state reflects the newest price, and a late one must not re-arm or alert against it.
type EvaluatePrice struct {
	Event stockalert.PriceEvent
}

// AlertStore holds subscriptions' alert state.
type AlertStore interface {
	Transactor
	// BreachedSubscriptions returns, in one set-based statement, the subscriptions of ticker whose
	// high_value is below price or whose low_value is above it, of users who are not paused.
	BreachedSubscriptions(ctx context.Context, ticker stockalert.Ticker, price float64) ([]stockalert.BreachedSubscription, error)
	// MarkAlerted records that the subscriptions were alerted about a breach on side state at at.
	MarkAlerted(ctx context.Context, ids []int64, state stockalert.AlertState, at time.Time) error
	// Rearm re-arms the breached subscriptions of ticker whose range contains price.
	Rearm(ctx context.Context, ticker stockalert.Ticker, price float64) error
	// MarkEvaluated records that ticker's quote of time at is being evaluated and reports whether it is
	// the newest so far (the same time counts); false for an older one, which records nothing.
	MarkEvaluated(ctx context.Context, ticker stockalert.Ticker, at time.Time) (newest bool, err error)
	outboxWriter
}

// EvaluatePriceHandler handles EvaluatePrice: *stockalert.ValidationError for a malformed event (it will
// never succeed: dead-letter it); store faults otherwise (retry).
type EvaluatePriceHandler decorator.CommandHandler[EvaluatePrice]

// NewEvaluatePriceHandler builds the handler over store, queuing alerts on topic.
func NewEvaluatePriceHandler(store AlertStore, topic string, logger *slog.Logger, m *decorator.Metrics) EvaluatePriceHandler {
	return decorator.ApplyCommand[EvaluatePrice](evaluatePriceHandler{store, topic}, logger, m)
}

type evaluatePriceHandler struct {
	store AlertStore
	topic string
}

// MaxEventIDLen bounds event ids.
const MaxEventIDLen = 64

func validEventID(id string) error {
	if id == "" || len(id) > MaxEventIDLen {
		return stockalert.Invalid("event_id", "must be 1 to %d characters", MaxEventIDLen)
	}
	return nil
}

func (h evaluatePriceHandler) Handle(ctx context.Context, cmd EvaluatePrice) error {
	ev := cmd.Event
	if err := validEventID(ev.EventID); err != nil {
		return err
	}
	if err := ev.Quote().Validate(); err != nil {
		return err
	}
	at := ev.Time.UTC()
	raised, late := 0, false
	err := h.store.InTx(ctx, func(ctx context.Context) error {
		newest, err := h.store.MarkEvaluated(ctx, ev.Ticker, at)
		if err != nil {
			return fmt.Errorf("evaluate %s at %g: %w", ev.Ticker, ev.Price, err)
		}
		if late = !newest; late {
			return nil
		}
		breached, err := h.store.BreachedSubscriptions(ctx, ev.Ticker, ev.Price)
		if err != nil {
			return fmt.Errorf("evaluate %s at %g: %w", ev.Ticker, ev.Price, err)
		}
		alerted := map[stockalert.AlertState][]int64{}
		var msgs []stockalert.OutboxMessage
		for _, b := range breached {
			cond, threshold, ok := b.Thresholds.Check(ev.Price)
			if !ok || !b.ShouldAlert(cond, at, b.NotifyInterval) {
				continue
			}
			alert := stockalert.AlertEvent{
				EventID:        stockalert.AlertEventID(ev.EventID, b.ID),
				Email:          b.Email,
				TelegramChatID: b.TelegramChatID,
				Ticker:         ev.Ticker,
				Condition:      cond,
				Price:          ev.Price,
				Currency:       ev.Currency,
				Threshold:      threshold,
				Time:           at,
			}
			body, err := json.Marshal(alert)
			if err != nil {
				return fmt.Errorf("encode alert %s: %w", alert.EventID, err)
			}
			msgs = append(msgs, stockalert.OutboxMessage{Topic: h.topic, Key: string(b.Email), Value: body})
			alerted[stockalert.AlertState(cond)] = append(alerted[stockalert.AlertState(cond)], b.ID)
		}
		for state, ids := range alerted {
			if err := h.store.MarkAlerted(ctx, ids, state, at); err != nil {
				return fmt.Errorf("mark %d subscriptions of %s alerted: %w", len(ids), ev.Ticker, err)
			}
		}
		if err := h.store.Rearm(ctx, ev.Ticker, ev.Price); err != nil {
			return fmt.Errorf("re-arm subscriptions of %s: %w", ev.Ticker, err)
		}
		if err := h.store.AppendOutbox(ctx, msgs...); err != nil {
			return fmt.Errorf("queue %d alerts of %s: %w", len(msgs), ev.Ticker, err)
		}
		raised = len(msgs)
		return nil
	})
	if err == nil && late {
		decorator.Report(ctx, slog.LevelInfo, "late price ignored", slog.String("event", "price-late"),
			slog.String("ticker", string(ev.Ticker)), slog.Float64("price", ev.Price), slog.Time("quoted_at", at))
	}
	if err == nil && raised > 0 {
		decorator.Report(ctx, slog.LevelInfo, "alerts raised", slog.String("event", "alerts-raised"),
			slog.String("ticker", string(ev.Ticker)), slog.Float64("price", ev.Price), slog.Int("alerts", raised))
	}
	return err
}

// RaisedAlert is an alert as the history keeps it: the event queued for the notifier, the rule that
// raised it and its owner.
type RaisedAlert struct {
	UserID int64
	RuleID int64
	Event  stockalert.AlertEvent
}
