package localfaas

import "context"

// Trigger invokes functions on outside events (a schedule, a Kafka topic, Telegram updates). Run works
// until ctx ends, then waits for the invocations in flight and returns; it returns early only on an error
// it cannot recover from. The program runs every Trigger and stops them before the functions.
type Trigger interface {
	Run(ctx context.Context) error
}
