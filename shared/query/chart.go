package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/stockalert/stockalert/shared/decorator"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// Chart asks for a PNG chart of Ticker's price over Range (see stockalert.ParseChartRange; empty is
// 1d) for one user, named by Email (the HTTP API) or by the Telegram chat linked to them (ChatID,
// when Email is empty). The picture shows the user's levels on the ticker and where their alerts on
// it fired, times in their zone. A chat linked to no user gets the bare price line, times in UTC.
type Chart struct {
	Email  string
	ChatID int64
	Ticker string
	Range  string
}

// ChartImage is Chart's answer: the PNG and what it shows.
type ChartImage struct {
	PNG    []byte
	Ticker stockalert.Ticker
	Range  stockalert.ChartRange
	// Currency is the history's, exactly as the source quotes it; Last the latest close in it.
	Currency  string
	Last      float64
	Simulated bool
}

// ChartLevel is a labelled horizontal line: a price the user set on the ticker ("high", "below"…).
type ChartLevel struct {
	Label string
	Price float64
}

// ChartData is what a ChartRenderer draws: the closes, the user's levels, the alerts that fired
// within the range (their time and price) and the IANA zone to write times in.
type ChartData struct {
	History  stockalert.PriceHistory
	Levels   []ChartLevel
	Alerts   []stockalert.PricePoint
	TimeZone string
}

// ChartRenderer draws a chart as PNG bytes (shared/chart).
type ChartRenderer interface {
	Render(d ChartData) ([]byte, error)
}

// HistorySource gives a ticker's closes over a range (the quote source behind its breaker and a cache).
type HistorySource interface {
	// History returns the closes, oldest first; stockalert.ErrNotFound for an unknown symbol, any other
	// error when the source could not tell.
	History(ctx context.Context, t stockalert.Ticker, rng stockalert.ChartRange) (stockalert.PriceHistory, error)
}

// ChartReader reads what a chart shows of a user.
type ChartReader interface {
	UserProfile(ctx context.Context, email stockalert.Email) (Profile, error)
	ChatProfile(ctx context.Context, chatID int64) (Profile, error)
	UserRules(ctx context.Context, email stockalert.Email, ticker stockalert.Ticker) ([]stockalert.Rule, error)
	HistoryReader
}

// ErrHistoryUnavailable means the quote source could not give the history (unreachable, breaker open,
// timeout). Try again later.
var ErrHistoryUnavailable = errors.New("price history unavailable")

// ChartHandler answers Chart: the image; a *stockalert.ValidationError naming "email", "ticker" or
// "range"; a *stockalert.NotFoundError ("no price history of NOPE") when the source knows no closes
// of the ticker, or an unknown e-mail (stockalert.ErrNotFound); an error wrapping
// ErrHistoryUnavailable when the source could not tell.
type ChartHandler decorator.QueryHandler[Chart, ChartImage]

// NewChartHandler builds the handler.
func NewChartHandler(r ChartReader, src HistorySource, render ChartRenderer, logger *slog.Logger, m *decorator.Metrics) ChartHandler {
	return decorator.ApplyQuery[Chart, ChartImage](chartHandler{r, src, render}, logger, m)
}

type chartHandler struct {
	r      ChartReader
	src    HistorySource
	render ChartRenderer
}

func (h chartHandler) Handle(ctx context.Context, q Chart) (ChartImage, error) {
	ticker, err := stockalert.ParseTicker(q.Ticker)
	if err != nil {
		return ChartImage{}, err
	}
	rng, err := stockalert.ParseChartRange(q.Range)
	if err != nil {
		return ChartImage{}, err
	}
	var (
		profile Profile
		linked  bool
	)
	if q.Email != "" {
		email, err := stockalert.ParseEmail(q.Email)
		if err != nil {
			return ChartImage{}, err
		}
		if profile, err = h.r.UserProfile(ctx, email); err != nil {
			return ChartImage{}, fmt.Errorf("profile of %s: %w", email, err)
		}
		linked = true
	} else {
		profile, err = h.r.ChatProfile(ctx, q.ChatID)
		switch {
		case err == nil:
			linked = true
		case !errors.Is(err, stockalert.ErrNotFound):
			return ChartImage{}, fmt.Errorf("profile of chat %d: %w", q.ChatID, err)
		}
	}

	hist, err := h.src.History(ctx, ticker, rng)
	switch {
	case errors.Is(err, stockalert.ErrNotFound):
		return ChartImage{}, fmt.Errorf("%w (%w)", stockalert.NotFound("no price history of %s", ticker), err)
	case err != nil:
		return ChartImage{}, fmt.Errorf("history of %s over %s: %w: %w", ticker, rng, ErrHistoryUnavailable, err)
	case len(hist.Points) == 0:
		return ChartImage{}, stockalert.NotFound("no price history of %s", ticker)
	}

	data := ChartData{History: hist, TimeZone: "UTC"}
	if linked {
		data.TimeZone = profile.TimeZone
		rules, err := h.r.UserRules(ctx, profile.Email, ticker)
		if err != nil {
			return ChartImage{}, fmt.Errorf("rules of %s on %s: %w", profile.Email, ticker, err)
		}
		data.Levels = chartLevels(rules)
		alerts, err := h.r.AlertHistory(ctx, profile.Email, ticker, MaxHistoryLimit)
		if err != nil {
			return ChartImage{}, fmt.Errorf("alert history of %s on %s: %w", profile.Email, ticker, err)
		}
		first, last := hist.Points[0].Time, hist.Points[len(hist.Points)-1].Time
		for i := len(alerts) - 1; i >= 0; i-- { // oldest first
			a := alerts[i].Alert
			if a.Currency == hist.Currency && !a.RaisedAt.Before(first) && !a.RaisedAt.After(last) {
				data.Alerts = append(data.Alerts, stockalert.PricePoint{Time: a.RaisedAt, Price: a.Price})
			}
		}
	}
	png, err := h.render.Render(data)
	if err != nil {
		return ChartImage{}, fmt.Errorf("render chart of %s: %w", ticker, err)
	}
	decorator.Report(ctx, slog.LevelInfo, "query handled", slog.String("ticker", string(ticker)),
		slog.String("range", string(rng)), slog.Int("points", len(hist.Points)), slog.Int("png_bytes", len(png)))
	return ChartImage{
		PNG: png, Ticker: ticker, Range: rng, Currency: hist.Currency,
		Last: hist.Points[len(hist.Points)-1].Price, Simulated: hist.Source == stockalert.QuoteSourceSimulated,
	}, nil
}

// chartLevels are the price levels of the live rules (not done): a range's high and low, an above or
// below level, and a move's two bounds around its reference. A change_pct rule has no fixed level.
func chartLevels(rules []stockalert.Rule) []ChartLevel {
	var out []ChartLevel
	for _, r := range rules {
		if !r.DoneAt.IsZero() {
			continue
		}
		switch r.Kind {
		case stockalert.KindRange:
			if r.Thresholds.High != nil {
				out = append(out, ChartLevel{"high " + price(*r.Thresholds.High), *r.Thresholds.High})
			}
			if r.Thresholds.Low != nil {
				out = append(out, ChartLevel{"low " + price(*r.Thresholds.Low), *r.Thresholds.Low})
			}
		case stockalert.KindAbove:
			out = append(out, ChartLevel{"above " + price(r.Level), r.Level})
		case stockalert.KindBelow:
			out = append(out, ChartLevel{"below " + price(r.Level), r.Level})
		case stockalert.KindMovePct:
			if r.Reference <= 0 {
				continue
			}
			pct := strconv.FormatFloat(r.Percent, 'f', -1, 64) + "%"
			if r.Direction != stockalert.DirectionDown {
				v := r.Reference * (1 + r.Percent/100)
				out = append(out, ChartLevel{"move +" + pct, v})
			}
			if r.Direction != stockalert.DirectionUp {
				v := r.Reference * (1 - r.Percent/100)
				out = append(out, ChartLevel{"move -" + pct, v})
			}
		}
	}
	return out
}

func price(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
