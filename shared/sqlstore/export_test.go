package sqlstore

import "github.com/stockalert/stockalert/shared/stockalert"

// The statements whose query plans the tests check.
const (
	LatestPriceSQL  = latestPriceSQL
	AveragePriceSQL = averagePriceSQL
)

// FiringStatement is the statement FiringRules runs for q, with its arguments.
func FiringStatement(q stockalert.Quote) (string, []any) { return firingStatement(q) }

// RearmStatement is the statement Rearm runs for q, with its arguments.
func RearmStatement(q stockalert.Quote) (string, []any) { return rearmStatement(q) }
