package sqlstore

// The statements whose query plans the tests check.
const (
	BreachedSQL     = breachedSQL
	LatestPriceSQL  = latestPriceSQL
	AveragePriceSQL = averagePriceSQL
)
