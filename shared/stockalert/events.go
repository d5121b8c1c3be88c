package stockalert

import (
	"crypto/sha256"
	"encoding/hex"
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
