package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// registerOnce registers email through RunOnce, as the HTTP edge does with an Idempotency-Key: the
// result is what the first request answered.
func (f *fixture) registerOnce(key, email, ticker string) ([]byte, bool, error) {
	claim := stockalert.IdempotencyClaim{Scope: "register-user", Key: key,
		Fingerprint: stockalert.Fingerprint([]byte(email), []byte(ticker))}
	token := stockalert.NewSecret()
	return f.store.RunOnce(f.ctx, claim, stockalert.Email(email), func(ctx context.Context) ([]byte, error) {
		err := f.register.Handle(ctx, command.RegisterUser{Email: email, Ticker: ticker,
			TokenHash: stockalert.HashSecret(token), LinkCodeHash: stockalert.HashSecret(token + "c")})
		if err != nil {
			return nil, err
		}
		return []byte(token), nil
	})
}

var idempotencyCases = []contractCase{
	{"RunOnce/a repeat with the same key and payload returns the first result", func(t *testing.T, f *fixture) {
		first, replayed, err := f.registerOnce("key-1", "xia@example.com", "AAPL")
		require.NoError(t, err)
		require.False(t, replayed)
		again, replayed, err := f.registerOnce("key-1", "xia@example.com", "AAPL")
		require.NoError(t, err)
		require.True(t, replayed)
		require.Equal(t, first, again)
		require.Equal(t, 1, f.count("users", ""))
		_, err = f.authenticate.Handle(f.ctx, queryAuth("xia@example.com", string(first)))
		require.NoError(t, err, "the replayed token is the one that works")
	}},
	{"RunOnce/the same key with a different payload is refused", func(t *testing.T, f *fixture) {
		_, _, err := f.registerOnce("key-2", "yan@example.com", "AAPL")
		require.NoError(t, err)
		_, _, err = f.registerOnce("key-2", "yan@example.com", "MSFT")
		requireIs(t, err, stockalert.ErrIdempotencyKeyReused)
		require.Equal(t, []stockalert.Ticker{"AAPL"}, f.mustProfile("yan@example.com").Tickers())
	}},
	{"RunOnce/concurrent requests with one key take effect exactly once", func(t *testing.T, f *fixture) {
		const n = 16
		var (
			wg       sync.WaitGroup
			results  = make([][]byte, n)
			replays  = make([]bool, n)
			errs     = make([]error, n)
			start    = make(chan struct{})
			email    = "zed@example.com"
			distinct = map[string]bool{}
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], replays[i], errs[i] = f.registerOnce("key-3", email, "AAPL")
			}()
		}
		close(start)
		wg.Wait()
		ran := 0
		for i := range n {
			require.NoError(t, errs[i], "request %d", i)
			distinct[string(results[i])] = true
			if !replays[i] {
				ran++
			}
		}
		require.Equal(t, 1, ran, "exactly one request ran")
		require.Len(t, distinct, 1, "all got the first result")
		require.Equal(t, 1, f.count("users", ""))
		require.Equal(t, 1, f.count("alert_rules", ""))
		require.Equal(t, 1, f.count("idempotency_keys", ""))
	}},
	{"RunOnce/a failed request releases its key", func(t *testing.T, f *fixture) {
		f.registerUser("taken@example.com", "AAPL", th(nil, nil))
		_, _, err := f.registerOnce("key-4", "taken@example.com", "AAPL")
		requireIs(t, err, stockalert.ErrConflict)
		require.Zero(t, f.count("idempotency_keys", ""))
		require.NoError(t, f.deleteUser.Handle(f.ctx, command.DeleteUser{Email: "taken@example.com"}))
		_, replayed, err := f.registerOnce("key-4", "taken@example.com", "AAPL")
		require.NoError(t, err)
		require.False(t, replayed)
	}},
	{"RunOnce/records expire and are purged", func(t *testing.T, f *fixture) {
		first, _, err := f.registerOnce("key-5", "abe@example.com", "AAPL")
		require.NoError(t, err)
		f.clock.Advance(idempotencyTTL - 1)
		got, replayed, err := f.registerOnce("key-5", "abe@example.com", "AAPL")
		require.NoError(t, err)
		require.True(t, replayed)
		require.Equal(t, first, got)
		require.NoError(t, f.purge.Handle(f.ctx, command.PurgeIdempotencyKeys{}))
		require.Equal(t, 1, f.count("idempotency_keys", ""), "not expired yet")

		f.clock.Advance(1)
		_, replayed, err = f.registerOnce("key-5", "abe2@example.com", "MSFT")
		require.NoError(t, err, "an expired key may be used for a new request")
		require.False(t, replayed)
		f.clock.Advance(idempotencyTTL)
		require.NoError(t, f.purge.Handle(f.ctx, command.PurgeIdempotencyKeys{}))
		require.Zero(t, f.count("idempotency_keys", ""))
		require.Equal(t, 2, f.count("users", ""), "purging keys touches nothing else")
	}},
	{"RunOnce/keys are scoped", func(t *testing.T, f *fixture) {
		_, _, err := f.registerOnce("key-6", "bea@example.com", "AAPL")
		require.NoError(t, err)
		out, replayed, err := f.store.RunOnce(f.ctx, stockalert.IdempotencyClaim{Scope: "other", Key: "key-6", Fingerprint: "x"},
			"bea@example.com", func(context.Context) ([]byte, error) { return []byte("other"), nil })
		require.NoError(t, err)
		require.False(t, replayed)
		require.Equal(t, "other", string(out))
		require.Equal(t, 2, f.count("idempotency_keys", ""), "one per scope")
	}},
}

func queryAuth(email, token string) query.Authenticate {
	return query.Authenticate{Email: email, Token: token}
}
