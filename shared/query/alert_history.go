package query

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Limits of AlertHistory.
const (
	// DefaultHistoryLimit is how many alerts AlertHistory answers when no Limit is given.
	DefaultHistoryLimit = 50
	// MaxHistoryLimit is the largest Limit AlertHistory accepts.
	MaxHistoryLimit = 500
)

// AlertHistory asks for the alerts raised for a user, newest first: on Ticker only unless it is
// empty; at most Limit of them (the decimal text of 1..MaxHistoryLimit; empty means
// DefaultHistoryLimit).
type AlertHistory struct {
	Email  string
	Ticker string
	Limit  string
}

// ChannelTelegram is the delivery channel of an alert not tried on any channel yet.
const ChannelTelegram = "telegram"

// DeliveryOutcome is how far an alert got on one channel.
type DeliveryOutcome string

// The delivery outcomes.
const (
	// OutcomeSent: the channel accepted the message.
	OutcomeSent DeliveryOutcome = "sent"
	// OutcomeUndeliverable: the message can never be delivered there (Reason says why).
	OutcomeUndeliverable DeliveryOutcome = "undeliverable"
	// OutcomeHeld: raised during the user's quiet hours and held for the one summary message sent
	// when they end (Reason "quiet hours"); it becomes sent with the summary.
	OutcomeHeld DeliveryOutcome = "held"
	// OutcomePending: not delivered yet (not tried, being sent, or failed and to be retried).
	OutcomePending DeliveryOutcome = "pending"
)

// Delivery is an alert's outcome on one channel.
type Delivery struct {
	Channel string
	Outcome DeliveryOutcome
	// Reason says why an undeliverable alert is so ("no Telegram chat linked"), or why one is held
	// ("quiet hours"); empty otherwise.
	Reason string
}

// RaisedAlert is one alert of the history: what the rule saw when it fired and how its delivery went.
type RaisedAlert struct {
	EventID   string
	RuleID    int64
	Ticker    stockalert.Ticker
	Kind      stockalert.RuleKind
	Condition stockalert.Condition
	Price     float64
	// Currency is the quote's, exactly as the source gave it.
	Currency string
	// Threshold is the price level crossed; Percent and Direction are the percent kinds' (0 and ""
	// for the others); DayChangePercent the day change when the previous close was known.
	Threshold        float64
	Percent          float64
	Direction        stockalert.Direction
	DayChangePercent *float64
	// RuleDone: the rule was done after this alert (a once rule).
	RuleDone   bool
	RaisedAt   time.Time
	Deliveries []Delivery
}

// HistoryReader reads the alert history.
type HistoryReader interface {
	// AlertHistory returns at most limit alerts of the user with that e-mail (on ticker only unless it
	// is empty), newest first, each with its notification log entry's state and error (empty when the
	// log has none yet).
	AlertHistory(ctx context.Context, email stockalert.Email, ticker stockalert.Ticker, limit int) ([]HistoryEntry, error)
}

// HistoryEntry is an alert as the store keeps it: the alert and its notification log entry.
type HistoryEntry struct {
	Alert RaisedAlert
	// State is the notification log's state of the alert ("" when it has no entry yet) and Reason, for
	// an undeliverable one, why in plain words (never the operator's error chain).
	State  stockalert.DeliveryState
	Reason string
	// Channels are the alert's deliveries over the channels beside Telegram (the delivery log), in
	// stockalert.Channels order: each channel's state and, for an undeliverable one, the reason.
	Channels []ChannelEntry
}

// ChannelEntry is an alert's delivery log entry over one channel beside Telegram.
type ChannelEntry struct {
	Channel stockalert.Channel
	State   stockalert.DeliveryState
	Reason  string
}

// AlertHistoryHandler answers AlertHistory: the alerts (none is an empty list), or a
// *stockalert.ValidationError naming "email", "ticker" or "limit".
type AlertHistoryHandler decorator.QueryHandler[AlertHistory, []RaisedAlert]

// NewAlertHistoryHandler builds the handler over r.
func NewAlertHistoryHandler(r HistoryReader, logger *slog.Logger, m *decorator.Metrics) AlertHistoryHandler {
	return decorator.ApplyQuery[AlertHistory, []RaisedAlert](alertHistoryHandler{r}, logger, m)
}

type alertHistoryHandler struct{ r HistoryReader }

func (h alertHistoryHandler) Handle(ctx context.Context, q AlertHistory) ([]RaisedAlert, error) {
	email, err := stockalert.ParseEmail(q.Email)
	if err != nil {
		return nil, err
	}
	var ticker stockalert.Ticker
	if q.Ticker != "" {
		if ticker, err = stockalert.ParseTicker(q.Ticker); err != nil {
			return nil, err
		}
	}
	limit := DefaultHistoryLimit
	if q.Limit != "" {
		n, err := strconv.Atoi(q.Limit)
		if err != nil || n < 1 || n > MaxHistoryLimit {
			return nil, stockalert.Invalid("limit", "must be a whole number from 1 to %d", MaxHistoryLimit)
		}
		limit = n
	}
	entries, err := h.r.AlertHistory(ctx, email, ticker, limit)
	if err != nil {
		return nil, fmt.Errorf("alert history of %s: %w", email, err)
	}
	out := make([]RaisedAlert, len(entries))
	for i, e := range entries {
		// One delivery per channel the alert went to: Telegram's from the notification log, the
		// others' from the delivery log; an alert not tried anywhere yet is pending on Telegram.
		var ds []Delivery
		if e.State != "" || len(e.Channels) == 0 {
			ds = append(ds, delivery(ChannelTelegram, e.State, e.Reason))
		}
		for _, c := range e.Channels {
			ds = append(ds, delivery(string(c.Channel), c.State, c.Reason))
		}
		out[i] = e.Alert
		out[i].Deliveries = ds
	}
	return out, nil
}

// delivery is a logged state as the history shows it.
func delivery(channel string, state stockalert.DeliveryState, reason string) Delivery {
	d := Delivery{Channel: channel, Outcome: OutcomePending}
	switch state {
	case stockalert.Sent:
		d.Outcome = OutcomeSent
	case stockalert.Undeliverable:
		d.Outcome, d.Reason = OutcomeUndeliverable, reason
	case stockalert.Held:
		d.Outcome, d.Reason = OutcomeHeld, "quiet hours"
	}
	return d
}
