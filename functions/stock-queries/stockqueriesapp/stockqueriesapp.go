// Package stockqueriesapp is the composition root of the stock-queries function, the read side of the
// stockalert HTTP API: a user's profile, the latest recorded price and the average of recent prices
// (see shared/edge/httpapi). Its main package and the tests run this wiring.
//
// Secrets (file in secret_mount_path, else the environment variable):
//
//	mysql-dsn                MYSQL_DSN                 optional: SQLite at SQLITE_PATH otherwise
//
// Environment: QUOTE_MAX_AGE (query.Freshness: a latest price older than it is answered with
// "stale": true); QUOTE_SOURCE and the YAHOO_* settings (shared/quotesource: the source the charts'
// histories come from, behind its circuit breaker) and CHART_CACHE_TTL (how long a ticker's history
// per range is kept); SQLITE_PATH, IDEMPOTENCY_TTL and DB_MAX_OPEN_CONNS (shared/sqlstore/configured), and
// the function runtime's (port, bind, exec_timeout, max_body_bytes, log_format… see
// shared/faas.Config).
package stockqueriesapp

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/stockalert/stockalert/shared/chart"
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/edge/httpapi"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/quotesource"
	"github.com/stockalert/stockalert/shared/sqlstore/configured"
)

// Config is the function's configuration beside the store's and the runtime's.
type Config struct {
	// Quotes is the source the charts' histories come from: yahoo or simulated.
	Quotes quotesource.Config
	// ChartCacheTTL is how long a ticker's history over a range is kept: a burst makes one call.
	ChartCacheTTL time.Duration `env:"CHART_CACHE_TTL" envDefault:"1m"`
}

// Name is the function's name in stack.yml, its logs and its metrics.
const Name = "stock-queries"

// Wire is the function's faas.Wiring: it builds the read side of the HTTP API
// (httpapi.NewStockQueries) over the configured store, with the use cases' logging and metrics on p.
// Errors: bad configuration, a store that cannot be opened or migrated, or an unreadable secret.
func Wire(ctx context.Context, p *faas.Process) (http.Handler, error) {
	var fresh query.Freshness
	if err := p.Parse(&fresh); err != nil {
		return nil, err
	}
	var cfg Config
	if err := p.Parse(&cfg); err != nil {
		return nil, err
	}
	if err := fresh.Validate(); err != nil {
		return nil, err
	}
	store, err := configured.OpenFrom(ctx, p.Env, p.Secrets, p.Logger)
	if err != nil {
		return nil, err
	}
	p.Attach("database", store)
	m, err := decorator.NewMetrics(p.Registry)
	if err != nil {
		return nil, err
	}
	source, err := quotesource.Open(cfg.Quotes, p.Logger, p.Registry)
	if err != nil {
		return nil, err
	}
	histories, err := quotesource.NewHistoryCache(source, cfg.ChartCacheTTL, 0)
	if err != nil {
		return nil, fmt.Errorf("CHART_CACHE_TTL: %w", err)
	}
	return httpapi.NewStockQueries(httpapi.StockQueries{
		Authenticate:  query.NewAuthenticateHandler(store, p.Logger, m),
		UserProfile:   query.NewUserProfileHandler(store, p.Logger, m),
		LatestPrice:   query.NewLatestPriceHandler(store, fresh, p.Logger, m),
		LatestPrices:  query.NewLatestPricesHandler(store, fresh, p.Logger, m),
		AveragePrice:  query.NewAveragePriceHandler(store, p.Logger, m),
		Rules:         query.NewRulesHandler(store, fresh, p.Logger, m),
		AlertHistory:  query.NewAlertHistoryHandler(store, p.Logger, m),
		ChannelStates: query.NewChannelStatesHandler(store, p.Logger, m),
		Chart:         query.NewChartHandler(store, histories, chart.Renderer{}, p.Logger, m),
		Logger:        p.Logger,
	}), nil
}
