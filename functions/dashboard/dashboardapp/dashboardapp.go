// Package dashboardapp is the composition root of the dashboard function, the users' web dashboard
// (shared/edge/web): server-rendered pages to sign in with the bot's /web link, see and change one's
// alert rules, the latest prices, a chart per ticker, the alert history and the channels. Its main
// package and the tests run this wiring.
//
// Secrets (file in secret_mount_path, else the environment variable):
//
//	mysql-dsn                MYSQL_DSN                 optional: SQLite at SQLITE_PATH otherwise
//
// Environment: QUOTE_MAX_AGE (query.Freshness: older prices are shown as stale), MAX_RULES_PER_USER
// (as on user-commands), DASHBOARD_SESSION_TTL (how long a sign-in lasts, default 168h); SQLITE_PATH,
// IDEMPOTENCY_TTL and DB_MAX_OPEN_CONNS (shared/sqlstore/configured), and the function runtime's
// (see shared/faas.Config). A new ticker is not checked against the quote source here: the collector
// drops a symbol it keeps finding unknown.
package dashboardapp

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/stockalert/stockalert/shared/chart"
	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/edge/web"
	"github.com/stockalert/stockalert/shared/faas"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/quotesource"
	"github.com/stockalert/stockalert/shared/sqlstore/configured"
)

// Name is the function's name in stack.yml, its logs and its metrics.
const Name = "dashboard"

type config struct {
	Freshness       query.Freshness
	MaxRulesPerUser int           `env:"MAX_RULES_PER_USER" envDefault:"100"`
	SessionTTL      time.Duration `env:"DASHBOARD_SESSION_TTL" envDefault:"168h"`
	// Quotes is the source the charts' histories come from (yahoo or simulated), ChartCacheTTL how
	// long a ticker's history over a range is kept.
	Quotes        quotesource.Config
	ChartCacheTTL time.Duration `env:"CHART_CACHE_TTL" envDefault:"1m"`
}

// Wire is the function's faas.Wiring: the dashboard (web.New) over the configured store, with the use
// cases' logging and metrics on p. Errors: bad configuration, a store that cannot be opened or
// migrated, or an unreadable secret.
func Wire(ctx context.Context, p *faas.Process) (http.Handler, error) {
	var cfg config
	if err := p.Parse(&cfg); err != nil {
		return nil, err
	}
	if err := cfg.Freshness.Validate(); err != nil {
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
	return web.New(web.Dashboard{
		WebSession:    query.NewWebSessionHandler(store, nil, p.Logger, m),
		StartSession:  command.NewStartWebSessionHandler(store, nil, p.Logger, m),
		EndSession:    command.NewEndWebSessionHandler(store, nil, p.Logger, m),
		SessionTTL:    cfg.SessionTTL,
		Rules:         query.NewRulesHandler(store, cfg.Freshness, p.Logger, m),
		LatestPrices:  query.NewLatestPricesHandler(store, cfg.Freshness, p.Logger, m),
		AlertHistory:  query.NewAlertHistoryHandler(store, p.Logger, m),
		ChannelStates: query.NewChannelStatesHandler(store, p.Logger, m),
		CreateRule:    command.NewCreateRuleHandler(store, nil, p.Logger, m, command.MaxRulesPerUser(cfg.MaxRulesPerUser)),
		DeleteRule:    command.NewDeleteRuleHandler(store, p.Logger, m),
		Chart:         query.NewChartHandler(store, histories, chart.Renderer{}, p.Logger, m),
		Logger:        p.Logger,
	}), nil
}
