// Package quotesource opens the quote source a process is configured for: Yahoo Finance's chart API
// behind its circuit breaker (QUOTE_SOURCE=yahoo, the default) or the simulated random walk
// (QUOTE_SOURCE=simulated). It is the one place that choice is made, for the data-collector, which
// prices tickers, user-commands, which checks a new symbol, and telegram-bot, whose /price asks it
// through Cache (a short TTL cache that also coalesces concurrent asks for one symbol).
package quotesource

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stockalert/stockalert/shared/randomwalk"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/yahoo"
)

// Config is the quote source's configuration from the environment.
type Config struct {
	// Source is yahoo or simulated.
	Source    string `env:"QUOTE_SOURCE" envDefault:"yahoo"`
	Yahoo     yahoo.Config
	Simulated randomwalk.Config
}

// Source quotes one ticker: a *yahoo.Client or a *randomwalk.Source.
type Source interface {
	// Quote returns the ticker's current quote; an error wrapping stockalert.ErrNotFound for a symbol
	// the source does not know, any other error when it could not tell.
	Quote(ctx context.Context, t stockalert.Ticker) (stockalert.Quote, error)
	// History returns the ticker's closes over rng, oldest first; stockalert.ErrNotFound for a symbol
	// the source does not know (or a range with no close), any other error when it could not tell.
	History(ctx context.Context, t stockalert.Ticker, rng stockalert.ChartRange) (stockalert.PriceHistory, error)
}

// Open builds the configured source; Yahoo's client registers its breaker metrics on reg. Errors: an
// unknown QUOTE_SOURCE, or Yahoo's configuration refused (see yahoo.New).
func Open(cfg Config, logger *slog.Logger, reg prometheus.Registerer) (Source, error) {
	switch cfg.Source {
	case "yahoo":
		y, err := yahoo.New(cfg.Yahoo, logger, reg)
		if err != nil {
			return nil, err
		}
		return y, nil
	case "simulated":
		return randomwalk.New(cfg.Simulated, nil), nil
	default:
		return nil, fmt.Errorf("QUOTE_SOURCE must be yahoo or simulated, not %q", cfg.Source)
	}
}
