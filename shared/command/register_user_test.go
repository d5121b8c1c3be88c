package command_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

func TestRegisterUserWithoutATicker(t *testing.T) {
	store := storetest.Open(t)
	ctx := context.Background()
	register := command.NewRegisterUserHandler(store, nil, nil)
	secrets := func(email string) command.RegisterUser {
		return command.RegisterUser{Email: email, TokenHash: stockalert.HashSecret(email), LinkCodeHash: stockalert.HashSecret(email + "c")}
	}

	t.Run("an account alone, to add rules to later", func(t *testing.T) {
		require.NoError(t, register.Handle(ctx, secrets("ann@example.com")))
		u, err := store.UserByEmail(ctx, "ann@example.com")
		require.NoError(t, err)
		subs, err := store.Subscriptions(ctx, u.ID)
		require.NoError(t, err)
		require.Empty(t, subs)
	})
	t.Run("a ticker with no threshold is watched", func(t *testing.T) {
		cmd := secrets("bo@example.com")
		cmd.Ticker = "AAPL"
		require.NoError(t, register.Handle(ctx, cmd))
		u, err := store.UserByEmail(ctx, "bo@example.com")
		require.NoError(t, err)
		subs, err := store.Subscriptions(ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, subs, 1)
		require.Equal(t, stockalert.Ticker("AAPL"), subs[0].Ticker)
		require.Nil(t, subs[0].Thresholds.High)
		require.Nil(t, subs[0].Thresholds.Low)
	})
	t.Run("a threshold without a ticker is refused and changes nothing", func(t *testing.T) {
		for _, th := range []stockalert.Thresholds{{High: stockalert.Float(10)}, {Low: stockalert.Float(1)}} {
			cmd := secrets("cy@example.com")
			cmd.Thresholds = th
			err := register.Handle(ctx, cmd)
			v, ok := stockalert.AsValidation(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, "ticker", v.Field)
			_, err = store.UserByEmail(ctx, "cy@example.com")
			require.ErrorIs(t, err, stockalert.ErrNotFound)
		}
	})
}
