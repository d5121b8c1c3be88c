package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"github.com/stockalert/stockalert/shared/telegram"
)

// Without a bot token the notifier logs each message it would have sent, on a line with an "event"
// attribute: that is what puts a function's line on make run's console (FUNCTION_LOGS=notable), so a
// user trying the pipeline without Telegram reads the alert texts there.
func TestDryRunLogsTheMessageAsAnEvent(t *testing.T) {
	var buf bytes.Buffer
	d := telegram.NewDryRun(slog.New(slog.NewJSONHandler(&buf, nil)))
	err := d.Send(context.Background(), 777, "🔔 AAPL is above 200.00 USD")
	if !errors.Is(err, telegram.ErrUndeliverable) {
		t.Fatalf("Send = %v, want ErrUndeliverable", err)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	if rec["event"] != "telegram-dry-run" || rec["text"] != "🔔 AAPL is above 200.00 USD" || rec["chat_id"] != float64(777) {
		t.Fatalf("log line %s: want event telegram-dry-run with the chat id and text", buf.String())
	}
}
