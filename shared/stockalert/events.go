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
)

// PriceEvent is published by the collector for each ticker it priced.
type PriceEvent struct {
	EventID  string    `json:"event_id"`
	Ticker   Ticker    `json:"ticker"`
	Price    float64   `json:"price"`
	Currency string    `json:"currency"`
	Time     time.Time `json:"time"`
}

// Quote returns the quote the event carries.
func (e PriceEvent) Quote() Quote {
	return Quote{Ticker: e.Ticker, Price: e.Price, Currency: e.Currency, Time: e.Time}
}

// AlertEvent is published by the alert system for each subscription that should be told of a breach.
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
}

// AlertEventID derives the id of the alert that price event priceEventID raises for a subscription. It
// is the same every time the price event is handled, so a redelivered event yields the same alert id and
// the notifier can drop the duplicate.
func AlertEventID(priceEventID string, subscriptionID int64) string {
	sum := sha256.Sum256([]byte(priceEventID + "/" + strconv.FormatInt(subscriptionID, 10)))
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
