package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// AppendOutbox queues messages for publishing (in ctx's transaction, if any).
func (s *Store) AppendOutbox(ctx context.Context, msgs ...stockalert.OutboxMessage) error {
	now := ms(s.now())
	for start := 0; start < len(msgs); start += priceChunk {
		chunk := msgs[start:min(start+priceChunk, len(msgs))]
		args := make([]any, 0, 4*len(chunk))
		for _, m := range chunk {
			args = append(args, m.Topic, m.Key, m.Value, now)
		}
		if _, err := s.q(ctx).ExecContext(ctx,
			`INSERT INTO outbox (topic, msg_key, payload, created_at) VALUES `+placeholders(len(chunk), 4), args...); err != nil {
			return fmt.Errorf("append %d outbox messages: %w", len(chunk), err)
		}
	}
	return nil
}

// PendingOutbox returns up to limit queued messages of topic, oldest first.
func (s *Store) PendingOutbox(ctx context.Context, topic string, limit int) ([]stockalert.OutboxMessage, error) {
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT id, topic, msg_key, payload FROM outbox WHERE topic = ? ORDER BY id LIMIT ?`, topic, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []stockalert.OutboxMessage
	for rows.Next() {
		var m stockalert.OutboxMessage
		if err := rows.Scan(&m.ID, &m.Topic, &m.Key, &m.Value); err != nil {
			return nil, fmt.Errorf("scan outbox message: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeleteOutbox removes published messages by id.
func (s *Store) DeleteOutbox(ctx context.Context, ids []int64) error {
	for len(ids) > 0 {
		n := min(len(ids), priceChunk)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if _, err := s.q(ctx).ExecContext(ctx,
			`DELETE FROM outbox WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?, ", n), ", ")+`)`, args...); err != nil {
			return fmt.Errorf("delete outbox messages: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}
