package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// MaxNotificationError bounds the error text kept in the notification log, MaxNotificationReason the
// reason shown to the user.
const (
	MaxNotificationError  = 1024
	MaxNotificationReason = 255
)

// RecordNotification writes the outcome of a delivery attempt of Alert to UserID's chat into the
// notification log, counting attempts. A later attempt overwrites the state of an earlier one.
type RecordNotification struct {
	Alert  stockalert.AlertEvent
	UserID int64
	ChatID *int64
	State  stockalert.DeliveryState
	// Error is the attempt's error as operators need it (the whole chain); Reason says in plain words,
	// for the user (the alert history), why an undeliverable alert is so.
	Error  string
	Reason string
}

// NotificationRecorder writes the notification log.
type NotificationRecorder interface {
	// RecordNotification inserts or updates the log entry of n.Alert.EventID, adding one attempt.
	RecordNotification(ctx context.Context, n RecordNotification) error
}

// RecordNotificationHandler handles RecordNotification: *stockalert.ValidationError for a malformed
// entry; store faults otherwise.
type RecordNotificationHandler decorator.CommandHandler[RecordNotification]

// NewRecordNotificationHandler builds the handler over store.
func NewRecordNotificationHandler(store NotificationRecorder, logger *slog.Logger, m *decorator.Metrics) RecordNotificationHandler {
	return decorator.ApplyCommand[RecordNotification](recordNotificationHandler{store}, logger, m)
}

type recordNotificationHandler struct{ store NotificationRecorder }

func (h recordNotificationHandler) Handle(ctx context.Context, cmd RecordNotification) error {
	if err := validEventID(cmd.Alert.EventID); err != nil {
		return err
	}
	switch cmd.State {
	case stockalert.Sent, stockalert.Undeliverable, stockalert.Failed, stockalert.Held:
	default:
		return stockalert.Invalid("state", "%q is not a delivery state", cmd.State)
	}
	if len(cmd.Error) > MaxNotificationError {
		cmd.Error = cmd.Error[:MaxNotificationError]
	}
	if len(cmd.Reason) > MaxNotificationReason {
		cmd.Reason = cmd.Reason[:MaxNotificationReason]
	}
	if err := h.store.RecordNotification(ctx, cmd); err != nil {
		return fmt.Errorf("log notification %s as %s: %w", cmd.Alert.EventID, cmd.State, err)
	}
	return nil
}
