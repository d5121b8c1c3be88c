package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// appendOutbox queues n messages of topic with values "<prefix><i>" and returns their ids, oldest first.
func (f *fixture) appendOutbox(topic, prefix string, n int) []int64 {
	f.t.Helper()
	msgs := make([]stockalert.OutboxMessage, n)
	for i := range msgs {
		msgs[i] = stockalert.OutboxMessage{Topic: topic, Key: fmt.Sprintf("k%d", i%7), Value: []byte(fmt.Sprintf("%s%d", prefix, i))}
	}
	require.NoError(f.t, f.store.AppendOutbox(f.ctx, msgs...))
	pending, err := f.store.PendingOutbox(f.ctx, topic, 100_000)
	require.NoError(f.t, err)
	var ids []int64
	for _, m := range pending {
		if strings.HasPrefix(string(m.Value), prefix) {
			ids = append(ids, m.ID)
		}
	}
	require.Len(f.t, ids, n)
	return ids
}

func outboxIDs(msgs []stockalert.OutboxMessage) []int64 {
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	return ids
}

var outboxCases = []contractCase{
	{"ClaimOutbox/claims are disjoint, released at once, and expire with their lease", func(t *testing.T, f *fixture) {
		ids := f.appendOutbox("a", "m", 5)
		f.appendOutbox("b", "other", 1)
		const lease = time.Minute

		first, err := f.store.ClaimOutbox(f.ctx, "relay-1", "a", 2, lease)
		require.NoError(t, err)
		require.Equal(t, ids[:2], outboxIDs(first), "oldest first")
		second, err := f.store.ClaimOutbox(f.ctx, "relay-2", "a", 10, lease)
		require.NoError(t, err)
		require.Equal(t, ids[2:], outboxIDs(second), "what relay-1 holds is skipped; other topics too")
		none, err := f.store.ClaimOutbox(f.ctx, "relay-3", "a", 10, lease)
		require.NoError(t, err)
		require.Empty(t, none, "everything is held")

		// relay-2 could not publish ids[2] and gives it back; another relay's release changes nothing.
		require.NoError(t, f.store.ReleaseOutbox(f.ctx, "relay-2", ids[2:3]))
		require.NoError(t, f.store.ReleaseOutbox(f.ctx, "relay-3", ids[:2]))
		again, err := f.store.ClaimOutbox(f.ctx, "relay-3", "a", 10, lease)
		require.NoError(t, err)
		require.Equal(t, ids[2:3], outboxIDs(again))

		// relay-1 died: once its lease has passed its messages are claimed again.
		require.NoError(t, f.store.DeleteOutbox(f.ctx, ids[3:]))
		f.clock.Advance(lease - time.Millisecond)
		none, err = f.store.ClaimOutbox(f.ctx, "relay-4", "a", 10, lease)
		require.NoError(t, err)
		require.Empty(t, none, "leases still running")
		f.clock.Advance(time.Millisecond)
		taken, err := f.store.ClaimOutbox(f.ctx, "relay-4", "a", 10, lease)
		require.NoError(t, err)
		require.Equal(t, ids[:3], outboxIDs(taken))

		_, err = f.store.ClaimOutbox(f.ctx, "", "a", 10, lease)
		require.Error(t, err, "a claim needs a claimant")
		_, err = f.store.ClaimOutbox(f.ctx, "relay-5", "a", 10, 0)
		require.Error(t, err, "a claim needs a lease")
	}},
	{"ClaimOutbox/concurrent relays each claim every message once", func(t *testing.T, f *fixture) {
		const rows, relays, batch = 400, 6, 25
		f.appendOutbox("a", "m", rows)
		var (
			mu      sync.Mutex
			claimed = map[int64]int{}
			wg      sync.WaitGroup
			errs    = make(chan error, relays)
		)
		for r := range relays {
			wg.Add(1)
			go func() { // each relay claims until nothing is left, holding what it claimed (a slow publish)
				defer wg.Done()
				claimant := fmt.Sprintf("relay-%d", r)
				for taken := 0; taken <= rows; {
					msgs, err := f.store.ClaimOutbox(f.ctx, claimant, "a", batch, time.Minute)
					if err != nil {
						errs <- err
						return
					}
					if len(msgs) == 0 {
						return
					}
					taken += len(msgs)
					mu.Lock()
					for _, m := range msgs {
						claimed[m.ID]++
					}
					mu.Unlock()
				}
				errs <- fmt.Errorf("%s claimed more than the %d messages there are", claimant, rows)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Len(t, claimed, rows, "every message was claimed")
		for id, n := range claimed {
			require.Equalf(t, 1, n, "message %d claimed %d times", id, n)
		}
		require.Equal(t, rows, f.count("outbox", ""), "claimed, not removed")
	}},
	{"ParkOutbox/moves messages aside with the reason, for an operator to queue again", func(t *testing.T, f *fixture) {
		ids := f.appendOutbox("a", "m", 3)
		long := strings.Repeat("é", sqlstore.MaxParkReason) // 2 bytes each: cut to fit, on a character boundary
		require.NoError(t, f.store.ParkOutbox(f.ctx,
			stockalert.ParkedMessage{OutboxMessage: stockalert.OutboxMessage{ID: ids[1]}, Reason: "unpublishable: [10] Message Size Too Large"}))
		require.NoError(t, f.store.ParkOutbox(f.ctx,
			stockalert.ParkedMessage{OutboxMessage: stockalert.OutboxMessage{ID: ids[1]}, Reason: "again"}),
			"a message parked already (by another relay) is skipped")

		pending, err := f.store.PendingOutbox(f.ctx, "a", 10)
		require.NoError(t, err)
		require.Equal(t, []int64{ids[0], ids[2]}, outboxIDs(pending), "the messages after the parked one go on")
		claimed, err := f.store.ClaimOutbox(f.ctx, "relay", "a", 10, time.Minute)
		require.NoError(t, err)
		require.Equal(t, []int64{ids[0], ids[2]}, outboxIDs(claimed))

		parked, err := f.store.ParkedOutbox(f.ctx, "a", 10)
		require.NoError(t, err)
		require.Len(t, parked, 1)
		require.Equal(t, ids[1], parked[0].ID)
		require.Equal(t, "a", parked[0].Topic)
		require.Equal(t, "k1", parked[0].Key)
		require.Equal(t, []byte("m1"), parked[0].Value)
		require.Equal(t, "unpublishable: [10] Message Size Too Large", parked[0].Reason)
		require.True(t, f.clock.Now().Equal(parked[0].ParkedAt), "parked at %s", parked[0].ParkedAt)
		all, err := f.store.ParkedOutbox(f.ctx, "", 10)
		require.NoError(t, err)
		require.Len(t, all, 1)

		require.NoError(t, f.store.ParkOutbox(f.ctx,
			stockalert.ParkedMessage{OutboxMessage: stockalert.OutboxMessage{ID: ids[2]}, Reason: long}))
		parked, err = f.store.ParkedOutbox(f.ctx, "a", 10)
		require.NoError(t, err)
		require.Len(t, parked, 2)
		require.Len(t, parked[1].Reason, sqlstore.MaxParkReason)
		require.Equal(t, strings.Repeat("é", sqlstore.MaxParkReason/2), parked[1].Reason)

		n, err := f.store.RequeueParked(f.ctx, ids[1], ids[1]+1000)
		require.NoError(t, err)
		require.Equal(t, 1, n, "an unknown id is skipped")
		pending, err = f.store.PendingOutbox(f.ctx, "a", 10)
		require.NoError(t, err)
		require.Len(t, pending, 2)
		require.Equal(t, []byte("m1"), pending[1].Value, "queued again, at the end")
		require.Greater(t, pending[1].ID, ids[2])
		require.Equal(t, 1, f.count("outbox_parked", ""))
	}},
}
