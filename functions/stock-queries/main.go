// Command stock-queries is the read side of the stockalert HTTP API as an OpenFaaS function: a user's
// profile, the latest recorded price and the average of recent prices (see shared/edge/httpapi). It opens
// the configured store (MySQL, or SQLite by default; see shared/sqlstore/configured).
package main

import (
	"context"
	"net/http"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/edge/httpapi"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/sqlstore/configured"
)

func main() { faas.Main("stock-queries", wire) }

func wire(ctx context.Context, p *faas.Process) (http.Handler, error) {
	store, err := configured.Open(ctx, p.Secrets, p.Logger)
	if err != nil {
		return nil, err
	}
	p.Attach("database", store)
	m, err := decorator.NewMetrics(p.Registry)
	if err != nil {
		return nil, err
	}
	return httpapi.NewStockQueries(httpapi.StockQueries{
		Authenticate: query.NewAuthenticateHandler(store, p.Logger, m),
		UserProfile:  query.NewUserProfileHandler(store, p.Logger, m),
		LatestPrice:  query.NewLatestPriceHandler(store, p.Logger, m),
		AveragePrice: query.NewAveragePriceHandler(store, p.Logger, m),
		Logger:       p.Logger,
	}), nil
}
