package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stockalert/stockalert/shared/decorator"
)

// PurgeIdempotencyKeys deletes idempotency records past their expiry. Expired records are also
// ignored when a key is claimed, so purging only reclaims space; the collector runs it every run.
type PurgeIdempotencyKeys struct{}

// IdempotencyPurger deletes expired idempotency records.
type IdempotencyPurger interface {
	PurgeIdempotencyKeys(ctx context.Context) error
}

// PurgeIdempotencyKeysHandler handles PurgeIdempotencyKeys; errors are store faults.
type PurgeIdempotencyKeysHandler decorator.CommandHandler[PurgeIdempotencyKeys]

// NewPurgeIdempotencyKeysHandler builds the handler over store.
func NewPurgeIdempotencyKeysHandler(store IdempotencyPurger, logger *slog.Logger, m *decorator.Metrics) PurgeIdempotencyKeysHandler {
	return decorator.ApplyCommand[PurgeIdempotencyKeys](purgeHandler{store}, logger, m)
}

type purgeHandler struct{ store IdempotencyPurger }

func (h purgeHandler) Handle(ctx context.Context, _ PurgeIdempotencyKeys) error {
	if err := h.store.PurgeIdempotencyKeys(ctx); err != nil {
		return fmt.Errorf("purge expired idempotency keys: %w", err)
	}
	return nil
}
