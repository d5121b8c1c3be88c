package mysql_test

import (
	"testing"

	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
)

func TestContract(t *testing.T) {
	storetest.MySQLDSN(t)
	storetest.Run(t, storetest.OpenMySQL)
}
