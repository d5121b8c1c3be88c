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

// EvaluatePrice applies the alert rules to a price event: every live rule of the ticker whose
// condition the price meets (stockalert.Rule.Check) and whose repeat policy says to alert
// (stockalert.Rule.ShouldAlert) gets an AlertEvent queued on the alerts topic (stockalert.TopicAlerts in
// production) and a row in the alert history; its state records the alert, and a rule with repeat
// "once" is done. Breached rules whose condition the price no longer meets re-arm. All in one
// transaction, with a bounded number of statements whatever the number of rules (see AlertStore).
//
// The alert ids derive from the event id and the rule id, so handling a redelivered event never yields
// a second, different alert (and a "once" rule, done by the first handling, does not fire again). An
// event whose quote is older than one already evaluated for its ticker (it was retried, or parked by
// the connector, while a newer price went through) changes nothing: the state reflects the newest
// price, and a late one must not re-arm or alert against it.
type EvaluatePrice struct {
	Event stockalert.PriceEvent
}

// AlertStore holds the rules' alert state. Each method is one statement (or one per 500 ids), so an
// evaluation costs the same few statements for ten rules or a hundred thousand.
type AlertStore interface {
	Transactor
	// FiringRules returns the live rules of q's ticker whose condition q meets (not done, not expired
	// at q.Time), of users who are not paused, in one set-based statement.
	FiringRules(ctx context.Context, q stockalert.Quote) ([]stockalert.OwnedRule, error)
	// MarkAlerted records that each alert's rule was alerted at at about a breach on the alert's side
	// (Event.Condition), and that it is done when the alert says RuleDone, in one statement.
	MarkAlerted(ctx context.Context, alerts []RaisedAlert, at time.Time) error
	// Rearm re-arms the breached rules of q's ticker whose condition q no longer meets.
	Rearm(ctx context.Context, q stockalert.Quote) error
	// MarkEvaluated records that ticker's quote of time at is being evaluated and reports whether it is
	// the newest so far (the same time counts); false for an older one, which records nothing.
	MarkEvaluated(ctx context.Context, ticker stockalert.Ticker, at time.Time) (newest bool, err error)
	// RecordAlerts adds the alerts to the alert history; an alert already there is left as it was.
	RecordAlerts(ctx context.Context, alerts []RaisedAlert) error
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
	q := ev.Quote()
	if err := q.Validate(); err != nil {
		return err
	}
	at := ev.Time.UTC()
	q.Time = at
	raised, late := 0, false
	err := h.store.InTx(ctx, func(ctx context.Context) error {
		newest, err := h.store.MarkEvaluated(ctx, ev.Ticker, at)
		if err != nil {
			return fmt.Errorf("evaluate %s at %g: %w", ev.Ticker, ev.Price, err)
		}
		if late = !newest; late {
			return nil
		}
		firing, err := h.store.FiringRules(ctx, q)
		if err != nil {
			return fmt.Errorf("evaluate %s at %g: %w", ev.Ticker, ev.Price, err)
		}
		var (
			msgs    []stockalert.OutboxMessage
			history []RaisedAlert
		)
		for _, f := range firing {
			cond, level, ok := f.Check(q)
			if !ok || !f.ShouldAlert(cond, at, f.NotifyInterval) {
				continue
			}
			alert := newAlertEvent(ev.EventID, f, q, cond, level)
			body, err := json.Marshal(alert)
			if err != nil {
				return fmt.Errorf("encode alert %s: %w", alert.EventID, err)
			}
			msgs = append(msgs, stockalert.OutboxMessage{Topic: h.topic, Key: string(f.Email), Value: body})
			history = append(history, RaisedAlert{UserID: f.UserID, RuleID: f.ID, Event: alert})
		}
		if err := h.store.MarkAlerted(ctx, history, at); err != nil {
			return fmt.Errorf("mark %d rules of %s alerted: %w", len(history), ev.Ticker, err)
		}
		if err := h.store.Rearm(ctx, q); err != nil {
			return fmt.Errorf("re-arm rules of %s: %w", ev.Ticker, err)
		}
		if err := h.store.RecordAlerts(ctx, history); err != nil {
			return fmt.Errorf("record %d alerts of %s: %w", len(history), ev.Ticker, err)
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
		decorator.CountAlertsRaised(ctx, raised)
		decorator.Report(ctx, slog.LevelInfo, "alerts raised", slog.String("event", "alerts-raised"),
			slog.String("ticker", string(ev.Ticker)), slog.Float64("price", ev.Price), slog.Int("alerts", raised))
	}
	return err
}

// newAlertEvent describes the alert price event eventID raises for rule f, which q fires on side cond
// at level: a repeat of a breach that began earlier carries BreachedSince; a "once" rule says it is done.
func newAlertEvent(eventID string, f stockalert.OwnedRule, q stockalert.Quote, cond stockalert.Condition, level float64) stockalert.AlertEvent {
	a := stockalert.AlertEvent{
		EventID:        stockalert.AlertEventID(eventID, f.ID),
		Email:          f.Email,
		TelegramChatID: f.TelegramChatID,
		Ticker:         q.Ticker,
		Condition:      cond,
		Price:          q.Price,
		Currency:       q.Currency,
		Threshold:      level,
		Time:           q.Time,
		RuleID:         stockalert.RuleIDString(f.ID),
		Kind:           f.Kind,
		Note:           f.Note,
		PreviousClose:  q.PreviousClose,
		RuleDone:       f.Normalized().Repeat == stockalert.RepeatOnce,
		Channels:       f.Channels,
	}
	if f.Kind == stockalert.KindChangePct || f.Kind == stockalert.KindMovePct {
		a.Percent, a.Direction = f.Percent, f.Normalized().Direction
	}
	if f.Kind == stockalert.KindMovePct {
		a.Reference = f.Reference
	}
	if pct, ok := q.DayChangePercent(); ok {
		a.DayChangePercent = stockalert.Float(pct)
	}
	if f.State == stockalert.AlertState(cond) && !f.BreachedSince.IsZero() {
		since := f.BreachedSince.UTC()
		a.BreachedSince = &since
	}
	return a
}

// RaisedAlert is an alert as the history keeps it: the event queued for the notifier, the rule that
// raised it and its owner.
type RaisedAlert struct {
	UserID int64
	RuleID int64
	Event  stockalert.AlertEvent
}
