package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// MaxQuotesPerAsk is how many symbols one CurrentQuotes may name (the bot's /price).
const MaxQuotesPerAsk = 5

// DefaultQuoteTimeout bounds the quote source's answer about one symbol when the handler is given none.
const DefaultQuoteTimeout = 5 * time.Second

// CurrentQuotes asks the quote source for the current quote of each of Tickers (1 to MaxQuotesPerAsk
// symbols; repeats are asked once), for the chat ChatID (0 for none): the answer carries the time zone
// of the user linked to it, UTC when no user is.
type CurrentQuotes struct {
	ChatID  int64
	Tickers []string
}

// QuoteStatus says what the quote source answered about one symbol.
type QuoteStatus string

const (
	// QuoteFound means CurrentQuote.Quote is the current quote.
	QuoteFound QuoteStatus = "found"
	// QuoteUnknown means the source does not know the symbol (Yahoo: 404 with chart.error).
	QuoteUnknown QuoteStatus = "unknown"
	// QuoteUnavailable means the source could not tell (unreachable, breaker open, timeout).
	QuoteUnavailable QuoteStatus = "unavailable"
)

// CurrentQuote is the source's answer about one symbol.
type CurrentQuote struct {
	Ticker stockalert.Ticker
	Status QuoteStatus
	// Quote is set when Status is QuoteFound: the price and currency as quoted, the quote's time, and
	// the previous close when the source gave it (see stockalert.Quote.DayChange).
	Quote stockalert.Quote
}

// QuoteBoard is CurrentQuotes' answer: one CurrentQuote per distinct symbol, in the order asked, and
// the IANA zone to show their times in.
type QuoteBoard struct {
	TimeZone string
	Quotes   []CurrentQuote
}

// Quoter asks the quote source about one symbol (the telegram-bot function wires the configured source
// behind its circuit breaker and a short cache, quotesource.Cache).
type Quoter interface {
	// Quote returns the current quote; an error wrapping stockalert.ErrNotFound for a symbol the source
	// does not know; any other error when it could not tell.
	Quote(ctx context.Context, t stockalert.Ticker) (stockalert.Quote, error)
}

// ChatProfiles finds the user linked to a chat.
type ChatProfiles interface {
	// ChatProfile returns the profile of the user linked to chatID, or stockalert.ErrNotFound.
	ChatProfile(ctx context.Context, chatID int64) (Profile, error)
}

// CurrentQuotesHandler answers CurrentQuotes: a *stockalert.ValidationError naming "ticker" for a
// malformed symbol, or "tickers" for none or more than MaxQuotesPerAsk; the store's error when the
// chat's profile cannot be read. A symbol the source does not know or cannot price is not an error:
// its CurrentQuote says so.
type CurrentQuotesHandler decorator.QueryHandler[CurrentQuotes, QuoteBoard]

// NewCurrentQuotesHandler builds the handler: each symbol is asked of quotes concurrently, each bounded
// by timeout (DefaultQuoteTimeout when ≤ 0).
func NewCurrentQuotesHandler(quotes Quoter, profiles ChatProfiles, timeout time.Duration, logger *slog.Logger, m *decorator.Metrics) CurrentQuotesHandler {
	if timeout <= 0 {
		timeout = DefaultQuoteTimeout
	}
	return decorator.ApplyQuery[CurrentQuotes, QuoteBoard](currentQuotesHandler{quotes, profiles, timeout}, logger, m)
}

type currentQuotesHandler struct {
	quotes   Quoter
	profiles ChatProfiles
	timeout  time.Duration
}

func (h currentQuotesHandler) Handle(ctx context.Context, q CurrentQuotes) (QuoteBoard, error) {
	tickers, err := distinctTickers(q.Tickers)
	if err != nil {
		return QuoteBoard{}, err
	}
	board := QuoteBoard{TimeZone: "UTC", Quotes: make([]CurrentQuote, len(tickers))}
	if q.ChatID != 0 {
		p, err := h.profiles.ChatProfile(ctx, q.ChatID)
		switch {
		case err == nil:
			board.TimeZone = p.TimeZone
		case !errors.Is(err, stockalert.ErrNotFound):
			return QuoteBoard{}, fmt.Errorf("profile of chat %d: %w", q.ChatID, err)
		}
	}
	var wg sync.WaitGroup
	for i, t := range tickers {
		wg.Go(func() { board.Quotes[i] = h.quote(ctx, t) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return QuoteBoard{}, fmt.Errorf("current quotes: %w", err)
	}
	return board, nil
}

// quote asks the source about t within the handler's timeout.
func (h currentQuotesHandler) quote(ctx context.Context, t stockalert.Ticker) CurrentQuote {
	qctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	quote, err := h.quotes.Quote(qctx, t)
	switch {
	case err == nil:
		return CurrentQuote{Ticker: t, Status: QuoteFound, Quote: quote}
	case errors.Is(err, stockalert.ErrNotFound):
		return CurrentQuote{Ticker: t, Status: QuoteUnknown}
	default:
		decorator.Report(ctx, slog.LevelWarn, "query handled", slog.String("ticker", string(t)), slog.String("quote_error", err.Error()))
		return CurrentQuote{Ticker: t, Status: QuoteUnavailable}
	}
}

// distinctTickers parses 1 to MaxQuotesPerAsk symbols, dropping repeats.
func distinctTickers(in []string) ([]stockalert.Ticker, error) {
	if len(in) == 0 {
		return nil, stockalert.Invalid("tickers", "name at least one symbol")
	}
	seen := make(map[stockalert.Ticker]bool, len(in))
	var out []stockalert.Ticker
	for _, s := range in {
		t, err := stockalert.ParseTicker(s)
		if err != nil {
			return nil, err
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) > MaxQuotesPerAsk {
		return nil, stockalert.Invalid("tickers", "at most %d symbols at a time", MaxQuotesPerAsk)
	}
	return out, nil
}
