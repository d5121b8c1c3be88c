package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// claimStatements are the statements of one delivery log's claim: read the row's state and
// claimed_until (locked), insert it as Sending when there is none, or set it Sending. insert and
// update get the claim's end and now, in ms.
type claimStatements struct {
	selectSQL  string
	selectArgs []any
	insert     func(until, now int64) (string, []any)
	update     func(until, now int64) (string, []any)
}

// claimRow takes a delivery claim for lease in one transaction, the mechanism both delivery logs
// (notifications for Telegram, deliveries for the other channels) share: it is taken (claimed true,
// the row Sending until now+lease) when there is no row, its last attempt failed, or a previous
// claim's lease has passed; otherwise nothing changes and prev is the state found (final, or Sending
// while another delivery holds a live claim). Two concurrent claims never both succeed (MySQL: the
// row lock, or the primary key when both insert; SQLite: immediate transactions).
func (s *Store) claimRow(ctx context.Context, lease time.Duration, st claimStatements) (prev stockalert.DeliveryState, claimed bool, err error) {
	err = s.InTx(ctx, func(ctx context.Context) error {
		now := s.now()
		until := ms(now.Add(lease))
		var held sql.NullInt64
		err := s.q(ctx).QueryRowContext(ctx, st.selectSQL+s.d.ForUpdate, st.selectArgs...).Scan(&prev, &held)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			prev = ""
			q, args := st.insert(until, ms(now))
			_, err = s.q(ctx).ExecContext(ctx, q, args...)
			if err != nil && s.d.IsDuplicate(err) { // a concurrent claim inserted it first
				prev = stockalert.Sending
				return nil
			}
			if err != nil {
				return fmt.Errorf("log the claim: %w", err)
			}
			claimed = true
			return nil
		case err != nil:
			return fmt.Errorf("read the delivery log: %w", err)
		case prev.Final(), prev == stockalert.Sending && held.Valid && held.Int64 > ms(now):
			return nil
		}
		q, args := st.update(until, ms(now))
		if _, err := s.q(ctx).ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("log the claim: %w", err)
		}
		claimed = true
		return nil
	})
	if err != nil {
		return "", false, err
	}
	return prev, claimed, nil
}
