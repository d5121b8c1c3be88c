package decorator

import (
	"context"
)

// ThenRun wraps h so that after each successful command it runs after (for example: publish the
// events the command queued in the outbox). The command's own error is returned as is; after's error
// is returned when the command succeeded, so the caller retries — which must then be harmless: the
// command idempotent, after safe to repeat.
func ThenRun[C any](h CommandHandler[C], after func(ctx context.Context) error) CommandHandler[C] {
	return thenRun[C]{base: h, after: after}
}

type thenRun[C any] struct {
	base  CommandHandler[C]
	after func(ctx context.Context) error
}

func (d thenRun[C]) Handle(ctx context.Context, cmd C) error {
	if err := d.base.Handle(ctx, cmd); err != nil {
		return err
	}
	return d.after(ctx)
}
