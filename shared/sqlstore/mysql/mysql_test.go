package mysql_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/sqlstore"
	"github.com/stockalert/stockalert/shared/sqlstore/mysql"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
)

func TestContract(t *testing.T) {
	storetest.MySQLDSN(t)
	storetest.Run(t, storetest.OpenMySQL)
}

func TestUpgradeToRules(t *testing.T) {
	dsn := storetest.ScratchMySQL(t)
	db, err := mysql.OpenDB(dsn, mysql.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	storetest.UpgradeToRules(t, db, mysql.Dialect, func(t *testing.T) *sqlstore.Store {
		s, err := mysql.Open(context.Background(), dsn, mysql.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
