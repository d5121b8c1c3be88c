package telegram_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/telegram"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
)

// BenchmarkDelivery: the alert-notifier's Telegram path (a Pacer over a Sender, as the notifier's
// composition root builds it) sending one alert per op to a new private chat each time, against the fake
// Bot API, at the default bot pace (TELEGRAM_BOT_MESSAGES_PER_SECOND, 30: Telegram's documented
// per-bot limit). Every chat is different, so only the bot's pace binds. It reports messages per second
// and, from that rate, the minutes one bot takes to deliver the 50,000 alerts of BenchmarkHotTicker
// (shared/sqlstore). Run it with -benchtime of at least 60x: the pace is the figure.
func BenchmarkDelivery(b *testing.B) {
	const token = "4242:bench"
	api := telegramtest.NewServer(b, token)
	sender, err := telegram.NewSender(token, api.URL())
	if err != nil {
		b.Fatal(err)
	}
	pacer, err := telegram.NewPacer(sender, telegram.PaceConfig{MaxWait: 5 * time.Second, Attempts: 3})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if err := pacer.Send(ctx, int64(1000+i), fmt.Sprintf("HOT is above your threshold (%d)", i)); err != nil {
			b.Fatal(err)
		}
	}
	if got := len(api.Messages()); got != b.N {
		b.Fatalf("the fake received %d messages, want %d", got, b.N)
	}
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(50_000/rate/60, "min/50k-alerts")
}
