package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

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

// PendingOutbox returns up to limit queued messages of topic, oldest first, claimed or not (tests and
// operators; relays use ClaimOutbox).
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

// ClaimOutbox claims for claimant, until lease from now, up to limit queued messages of topic that no
// relay holds (never claimed, released, or whose lease has passed), oldest first, and returns them. It
// runs in one transaction that skips rows another relay is claiming at that moment (FOR UPDATE SKIP
// LOCKED on MySQL/MariaDB; SQLite's immediate transactions run one at a time), so concurrent relays
// get disjoint messages. claimant is a token unique to the relay's run (at most 64 bytes); lease must
// be positive.
func (s *Store) ClaimOutbox(ctx context.Context, claimant, topic string, limit int, lease time.Duration) ([]stockalert.OutboxMessage, error) {
	if claimant == "" || len(claimant) > 64 || lease <= 0 || limit <= 0 {
		return nil, fmt.Errorf("claim outbox of %s: claimant %q, limit %d, lease %s: out of range", topic, claimant, limit, lease)
	}
	var out []stockalert.OutboxMessage
	err := s.InTx(ctx, func(ctx context.Context) error {
		out = out[:0]
		now := s.now()
		rows, err := s.q(ctx).QueryContext(ctx,
			`SELECT id, topic, msg_key, payload FROM outbox
			  WHERE topic = ? AND (claimed_until IS NULL OR claimed_until <= ?)
			  ORDER BY id LIMIT ?`+s.d.SkipLocked, topic, ms(now), limit)
		if err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var m stockalert.OutboxMessage
			if err := rows.Scan(&m.ID, &m.Topic, &m.Key, &m.Value); err != nil {
				return fmt.Errorf("scan outbox message: %w", err)
			}
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		ids := make([]int64, len(out))
		for i, m := range out {
			ids[i] = m.ID
		}
		return s.execIDs(ctx, `UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN `, []any{claimant, ms(now.Add(lease))}, ids)
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox of %s: %w", topic, err)
	}
	return out, nil
}

// ReleaseOutbox gives up claimant's claim on the messages ids that are still queued, so that the next
// relay takes them at once instead of after the lease.
func (s *Store) ReleaseOutbox(ctx context.Context, claimant string, ids []int64) error {
	if err := s.execIDs(ctx, `UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ? AND id IN `,
		[]any{claimant}, ids); err != nil {
		return fmt.Errorf("release outbox messages: %w", err)
	}
	return nil
}

// MaxParkReason bounds the reason kept with a parked message, in bytes.
const MaxParkReason = 1024

// ParkOutbox moves queued messages to the parked table with their reasons, in one transaction: msgs
// name them by ID (only ID and Reason are read); ParkedAt is now. A message no longer queued (another
// relay published or parked it) is skipped. A reason longer than MaxParkReason is cut.
func (s *Store) ParkOutbox(ctx context.Context, msgs ...stockalert.ParkedMessage) error {
	err := s.InTx(ctx, func(ctx context.Context) error {
		now := ms(s.now())
		for _, m := range msgs {
			if _, err := s.q(ctx).ExecContext(ctx,
				`INSERT INTO outbox_parked (id, topic, msg_key, payload, created_at, parked_at, reason)
				 SELECT id, topic, msg_key, payload, created_at, ?, ? FROM outbox WHERE id = ?`+s.d.onConflictDoNothing("reason"),
				now, cutReason(m.Reason), m.ID); err != nil {
				return fmt.Errorf("park outbox message %d: %w", m.ID, err)
			}
			if _, err := s.q(ctx).ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, m.ID); err != nil {
				return fmt.Errorf("remove parked outbox message %d: %w", m.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("park %d outbox messages: %w", len(msgs), err)
	}
	return nil
}

func cutReason(r string) string {
	if len(r) <= MaxParkReason {
		return r
	}
	r = r[:MaxParkReason]
	for !utf8.ValidString(r) { // do not split a character
		r = r[:len(r)-1]
	}
	return r
}

// ParkedOutbox returns up to limit parked messages of topic ("" for every topic), oldest first
// (operators and tests).
func (s *Store) ParkedOutbox(ctx context.Context, topic string, limit int) ([]stockalert.ParkedMessage, error) {
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT id, topic, msg_key, payload, reason, parked_at FROM outbox_parked
		  WHERE topic = ? OR ? = '' ORDER BY id LIMIT ?`, topic, topic, limit)
	if err != nil {
		return nil, fmt.Errorf("read parked outbox: %w", err)
	}
	defer rows.Close()
	var out []stockalert.ParkedMessage
	for rows.Next() {
		var (
			m  stockalert.ParkedMessage
			at int64
		)
		if err := rows.Scan(&m.ID, &m.Topic, &m.Key, &m.Value, &m.Reason, &at); err != nil {
			return nil, fmt.Errorf("scan parked outbox message: %w", err)
		}
		m.ParkedAt = time.UnixMilli(at).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// RequeueParked queues the parked messages ids again, at the end of their topic's queue (with new
// outbox ids), and removes them from the parked table, in one transaction (operators: after raising a
// topic's max.message.bytes or granting a permission). It returns how many it queued.
func (s *Store) RequeueParked(ctx context.Context, ids ...int64) (int, error) {
	n := 0
	err := s.InTx(ctx, func(ctx context.Context) error {
		n = 0
		for _, id := range ids {
			res, err := s.q(ctx).ExecContext(ctx,
				`INSERT INTO outbox (topic, msg_key, payload, created_at)
				 SELECT topic, msg_key, payload, created_at FROM outbox_parked WHERE id = ?`, id)
			if err != nil {
				return fmt.Errorf("queue parked message %d: %w", id, err)
			}
			k, err := rowsAffected(res)
			if err != nil {
				return err
			}
			n += int(k)
			if _, err := s.q(ctx).ExecContext(ctx, `DELETE FROM outbox_parked WHERE id = ?`, id); err != nil {
				return fmt.Errorf("remove requeued parked message %d: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("requeue %d parked messages: %w", len(ids), err)
	}
	return n, nil
}

// execIDs runs stmt (ending in "IN ") with args followed by ids as a "(?, …)" list, in chunks.
func (s *Store) execIDs(ctx context.Context, stmt string, args []any, ids []int64) error {
	for len(ids) > 0 {
		n := min(len(ids), priceChunk)
		all := append(append(make([]any, 0, len(args)+n), args...), int64sAsAny(ids[:n])...)
		if _, err := s.q(ctx).ExecContext(ctx, stmt+"("+strings.TrimSuffix(strings.Repeat("?, ", n), ", ")+")", all...); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

func int64sAsAny(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
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
