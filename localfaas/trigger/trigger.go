// Package trigger invokes functions through the gateway on outside events, as OpenFaaS's connectors
// do: CronTrigger (the cron-connector's behaviour, without overlapping runs) and TelegramForwarder (a
// long-poll of the Bot API delivered to a webhook function). The kafka-connector library is a Trigger
// too. Each one needs only the gateway's URL and what to invoke; none knows the application.
package trigger

import "context"

// Trigger invokes functions on outside events (a schedule, a Kafka topic, Telegram updates). Run works
// until ctx ends, then waits for the invocations in flight and returns; it returns early only on an error
// it cannot recover from. The program runs every Trigger and stops them before the functions.
type Trigger interface {
	Run(ctx context.Context) error
}
