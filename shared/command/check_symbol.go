package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// QuoteChecker asks the quote source about one symbol (user-commands wires the Yahoo client behind its
// circuit breaker, or the simulated source).
type QuoteChecker interface {
	// Quote returns the symbol's current quote; an error wrapping stockalert.ErrNotFound when the source
	// does not know the symbol (Yahoo: 404 with chart.error); any other error when it could not tell
	// (unreachable, breaker open, timeout, a malformed answer).
	Quote(ctx context.Context, t stockalert.Ticker) (stockalert.Quote, error)
}

// SymbolRegistry knows the symbols the service already follows and records those accepted unverified.
type SymbolRegistry interface {
	// SymbolKnown reports whether the ticker has a recorded price or a subscription.
	SymbolKnown(ctx context.Context, t stockalert.Ticker) (bool, error)
	// MarkUnverified records the ticker as accepted without the source's word; a no-op when it is.
	MarkUnverified(ctx context.Context, t stockalert.Ticker) error
}

// DefaultSymbolCheckTimeout bounds the quote source's answer about a new symbol when none is given.
const DefaultSymbolCheckTimeout = 5 * time.Second

// Option changes how a command that adds rules (RegisterUser, Subscribe, UpdateUser, CreateRule) is
// built.
type Option func(*options)

// options are the configured Options.
type options struct {
	check    symbolCheck
	maxRules int
}

func newOptions(opts []Option) options {
	o := options{maxRules: stockalert.DefaultMaxRulesPerUser}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// MaxRulesPerUser bounds how many rules one user may have, of every kind, their ranges included
// (MAX_RULES_PER_USER; stockalert.DefaultMaxRulesPerUser without this option, or for n < 1). A command
// that would add one more answers a *stockalert.ValidationError and changes nothing.
func MaxRulesPerUser(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.maxRules = n
		}
	}
}

// CheckSymbols makes the command check a symbol nobody follows yet against source before it is added:
// unknown to the source (stockalert.ErrNotFound) is a *stockalert.ValidationError naming "ticker" and
// changes nothing; when the source cannot tell within timeout (DefaultSymbolCheckTimeout when 0), or its
// breaker is open, the symbol is accepted and recorded unverified in registry, for the collector to
// drop if it keeps finding it unknown. Without this option no symbol is checked.
func CheckSymbols(source QuoteChecker, registry SymbolRegistry, timeout time.Duration) Option {
	return func(o *options) {
		if timeout <= 0 {
			timeout = DefaultSymbolCheckTimeout
		}
		o.check = symbolCheck{source: source, registry: registry, timeout: timeout}
	}
}

// symbolCheck is the configured check; the zero value checks nothing.
type symbolCheck struct {
	source   QuoteChecker
	registry SymbolRegistry
	timeout  time.Duration
}

// verify asks the source about t when nobody follows it yet. It returns unverified=true when t is
// accepted without the source's word (to be recorded with the subscription, see record), a
// *stockalert.ValidationError naming "ticker" when the source does not know it, and the store's or
// ctx's error otherwise.
func (c symbolCheck) verify(ctx context.Context, t stockalert.Ticker) (unverified bool, err error) {
	if c.source == nil || t == "" { // no check configured, or no symbol to check (an account alone)
		return false, nil
	}
	known, err := c.registry.SymbolKnown(ctx, t)
	if err != nil || known {
		return false, err
	}
	qctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	_, err = c.source.Quote(qctx, t)
	switch {
	case err == nil:
		decorator.Report(ctx, slog.LevelInfo, "command handled", slog.String("symbol_check", "verified"))
		return false, nil
	case errors.Is(err, stockalert.ErrNotFound):
		decorator.Report(ctx, slog.LevelInfo, "command handled", slog.String("symbol_check", "unknown"))
		return false, stockalert.Invalid("ticker", "%s is not a symbol the quote source knows", t)
	case ctx.Err() != nil:
		return false, fmt.Errorf("check symbol %s: %w", t, ctx.Err())
	default:
		decorator.Report(ctx, slog.LevelWarn, "command handled", slog.String("symbol_check", "unverified"),
			slog.String("symbol_check_error", err.Error()))
		return true, nil
	}
}

// record marks t unverified when verify said so; call it in the transaction that subscribes.
func (c symbolCheck) record(ctx context.Context, t stockalert.Ticker, unverified bool) error {
	if !unverified {
		return nil
	}
	return c.registry.MarkUnverified(ctx, t)
}
