package stockalert

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Kafka topics that connect the functions.
const (
	// TopicPrices carries a PriceEvent per ticker per collector run, keyed by ticker.
	TopicPrices = "to-alert-system"
	// TopicAlerts carries an AlertEvent per alert, keyed by user e-mail.
	TopicAlerts = "to-notifier"
	// TopicCollect carries the CollectWork of a fanned-out collection (data-collector with
	// COLLECTOR_FANOUT_BATCH set), one message per batch of tickers, to the quote-collector replicas.
	TopicCollect = "to-quote-collector"
)

// CollectWork is one batch of a fanned-out collection: the data-collector's cron run splits the
// subscribed tickers into Batches batches and publishes one CollectWork per batch on TopicCollect,
// keyed by CollectWorkKey; a quote-collector replica prices Tickers, records the quotes and publishes
// their price events. RunID names the run (the same in each of its batches), Batch is the batch's
// index from 0, and Time is when the run started, for logs and lag: a quote's own time is the one
// recorded.
type CollectWork struct {
	RunID   string    `json:"run_id"`
	Batch   int       `json:"batch"`
	Batches int       `json:"batches"`
	Tickers []Ticker  `json:"tickers"`
	Time    time.Time `json:"time"`
}

// Validate returns a *ValidationError naming the first bad field (run_id, batch, tickers[i]): such a
// message can never be processed.
func (w CollectWork) Validate() error {
	switch {
	case w.RunID == "":
		return Invalid("run_id", "is required")
	case w.Batches < 1 || w.Batch < 0 || w.Batch >= w.Batches:
		return Invalid("batch", "must be from 0 to batches-1, got %d of %d", w.Batch, w.Batches)
	case len(w.Tickers) == 0:
		return Invalid("tickers", "must not be empty")
	}
	for i, t := range w.Tickers {
		if _, err := ParseTicker(string(t)); err != nil {
			v, _ := AsValidation(err)
			return Invalid(fmt.Sprintf("tickers[%d]", i), "%s", v.Reason)
		}
	}
	return nil
}

// CollectWorkKey is the Kafka key of a run's batch: its index in decimal, so that a run's batches
// hash (murmur2, as every producer here) to the topic's partitions the same way every run and spread
// over them — and so over the quote-collector invocations the kafka-connector makes in parallel, one
// per partition. Keys 0–11 fall on partitions 2 3 2 5 1 0 4 3 3 5 4 0 of 6.
func CollectWorkKey(batch int) string {
	return strconv.Itoa(batch)
}

// PriceEvent is published by the collector for each ticker it priced. PreviousClose, DayChange (in
// the currency as quoted) and DayChangePercent are present only when the quote source gave a previous
// close; consumers that predate them ignore them.
type PriceEvent struct {
	EventID          string    `json:"event_id"`
	Ticker           Ticker    `json:"ticker"`
	Price            float64   `json:"price"`
	Currency         string    `json:"currency"`
	Time             time.Time `json:"time"`
	PreviousClose    float64   `json:"previous_close,omitempty"`
	DayChange        *float64  `json:"day_change,omitempty"`
	DayChangePercent *float64  `json:"day_change_percent,omitempty"`
}

// NewPriceEvent returns the price event of q with id eventID, the day change filled in from its
// previous close.
func NewPriceEvent(eventID string, q Quote) PriceEvent {
	ev := PriceEvent{EventID: eventID, Ticker: q.Ticker, Price: q.Price, Currency: q.Currency, Time: q.Time, PreviousClose: q.PreviousClose}
	if d, ok := q.DayChange(); ok {
		ev.DayChange = Float(d)
	}
	if p, ok := q.DayChangePercent(); ok {
		ev.DayChangePercent = Float(p)
	}
	return ev
}

// Quote returns the quote the event carries. The day change is derived from PreviousClose, never
// read from the event's own DayChange fields.
func (e PriceEvent) Quote() Quote {
	return Quote{Ticker: e.Ticker, Price: e.Price, Currency: e.Currency, Time: e.Time, PreviousClose: e.PreviousClose}
}

// AlertEvent is published by the alert system for each rule that should be told of a breach.
//
// The fields before RuleID are the original event's and keep their meaning for every kind, so a
// consumer that predates rules still reads a true alert: Condition is the side (Above or Below) and
// Threshold the price level that was crossed (for change_pct the previous close moved by the
// percent, for move_pct the reference moved by it). The fields from RuleID on are optional and
// describe the rule: its id and kind, Percent and Direction for the percent kinds, Reference for
// move_pct, the quote's previous close and day change (percent) when known, the rule's note,
// BreachedSince when the alert repeats a breach that began earlier (the rule was already triggered
// since then), and RuleDone when the rule fired with repeat "once" and is now done.
type AlertEvent struct {
	EventID        string    `json:"event_id"`
	Email          Email     `json:"email"`
	TelegramChatID *int64    `json:"telegram_chat_id"`
	Ticker         Ticker    `json:"ticker"`
	Condition      Condition `json:"condition"`
	Price          float64   `json:"price"`
	Currency       string    `json:"currency,omitempty"`
	Threshold      float64   `json:"threshold"`
	Time           time.Time `json:"time"`

	RuleID           string     `json:"rule_id,omitempty"`
	Kind             RuleKind   `json:"kind,omitempty"`
	Percent          float64    `json:"percent,omitempty"`
	Direction        Direction  `json:"direction,omitempty"`
	Reference        float64    `json:"reference,omitempty"`
	PreviousClose    float64    `json:"previous_close,omitempty"`
	DayChangePercent *float64   `json:"day_change_percent,omitempty"`
	Note             string     `json:"note,omitempty"`
	BreachedSince    *time.Time `json:"breached_since,omitempty"`
	RuleDone         bool       `json:"rule_done,omitempty"`
	// Channels are the channels the rule names (see Rule.Channels); absent: every channel the user
	// enabled.
	Channels []Channel `json:"channels,omitempty"`
}

// AlertEventID derives the id of the alert that price event priceEventID raises for a rule. It
// is the same every time the price event is handled, so a redelivered event yields the same alert id and
// the notifier can drop the duplicate.
func AlertEventID(priceEventID string, ruleID int64) string {
	sum := sha256.Sum256([]byte(priceEventID + "/" + strconv.FormatInt(ruleID, 10)))
	return hex.EncodeToString(sum[:16])
}

// OutboxMessage is an event waiting in the database to be published, written in the same transaction
// as the change it announces.
type OutboxMessage struct {
	ID    int64
	Topic string
	Key   string
	Value []byte
}

// ParkedMessage is an outbox message the broker refused for good (see ErrUnpublishable), moved aside
// with the reason so that the messages queued after it go on; it is kept for an operator.
type ParkedMessage struct {
	OutboxMessage
	Reason   string
	ParkedAt time.Time
}

// PublishErrors is the outcome of a publish in which some messages failed: one entry per message, in
// the order given, nil for each message the broker acknowledged. An entry wrapping ErrUnpublishable
// failed for good; any other failed entry may succeed when published again.
type PublishErrors []error

func (e PublishErrors) Error() string {
	failed, unpublishable := 0, 0
	var first error
	for _, err := range e {
		if err == nil {
			continue
		}
		failed++
		if errors.Is(err, ErrUnpublishable) {
			unpublishable++
		}
		if first == nil {
			first = err
		}
	}
	return fmt.Sprintf("%d of %d messages failed (%d for good), the first: %v", failed, len(e), unpublishable, first)
}

// Unwrap returns the errors of the failed messages, so that errors.Is and errors.As see them.
func (e PublishErrors) Unwrap() []error {
	var out []error
	for _, err := range e {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}
