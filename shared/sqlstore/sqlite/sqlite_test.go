package sqlite_test

import (
	"testing"

	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, storetest.OpenSQLite)
}
