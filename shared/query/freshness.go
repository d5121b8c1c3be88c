package query

import (
	"fmt"
	"time"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// Freshness decides which recorded prices the readers flag as stale: those whose quote time is older
// than MaxAge (stockalert.IsStale) — a symbol that stopped trading (renamed, delisted, suspended),
// whose source keeps answering with its last trade. Set it as the data-collector does (QUOTE_MAX_AGE),
// so that what the collector declines to announce is what the readers flag.
type Freshness struct {
	// MaxAge is the age past which a price is stale; zero means stockalert.DefaultMaxQuoteAge (7 days).
	MaxAge time.Duration `env:"QUOTE_MAX_AGE" envDefault:"168h"`
	// Now is the clock; nil means time.Now.
	Now func() time.Time `env:"-"`
}

// flag sets p.Stale against the clock.
func (f Freshness) flag(p Price) Price {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	p.Stale = stockalert.IsStale(p.Time, now(), f.MaxAge)
	return p
}

// Validate returns an error naming QUOTE_MAX_AGE when MaxAge is negative.
func (f Freshness) Validate() error {
	if f.MaxAge < 0 {
		return fmt.Errorf("QUOTE_MAX_AGE must not be negative, got %s", f.MaxAge)
	}
	return nil
}
