package telegrambot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// chartAction is the alert messages' "Chart" button: callback data "chart:<TICKER>".
const chartAction = "chart"

const (
	chartUsage = "/chart takes a symbol and, if you like, a range: 1d, 5d, 1mo, 6mo or 1y (1d when left out), " +
		"for example /chart AAPL or /chart VOD.L 6mo."
	chartsOffText = "Charts are not set up on this bot."
	// chartUnavailableText: the quote source could not give the history (unreachable, breaker open).
	chartUnavailableText = "Charts are unavailable right now: the quote source cannot be reached. Try again in a few minutes."
	chartSentNotice      = "Chart sent"
)

// PhotoSender sends a picture to a chat (a *telegram.Sender: Bot API sendPhoto).
type PhotoSender interface {
	SendPhoto(ctx context.Context, chatID int64, png []byte, caption string) error
}

// cmdChart serves /chart <TICKER> [1d|5d|1mo|6mo|1y]: a PNG of the price over the range with the
// levels of the user linked to the chat and where their alerts fired (query.Chart). Anyone may ask, in
// groups too; an unlinked chat gets the bare price line.
func (h *Webhook) cmdChart(ctx context.Context, req request) (answer, error) {
	if len(req.args) < 1 || len(req.args) > 2 {
		return reply(chartUsage), nil
	}
	rng := ""
	if len(req.args) == 2 {
		rng = req.args[1]
	}
	return h.chartAnswer(ctx, req.chatID, req.args[0], rng)
}

// pressChart serves the alert's "Chart" button: the 1d chart of the alert's ticker, sent to the chat.
func (h *Webhook) pressChart(ctx context.Context, cb callbackRequest) (string, answer, error) {
	out, err := h.chartAnswer(ctx, cb.chatID, cb.arg, "")
	if err != nil {
		return "", answer{}, err
	}
	if out.photo == nil {
		return out.text, answer{}, nil // charts off, or the source down: said in the notice
	}
	return chartSentNotice, out, nil
}

// chartAnswer asks for the chart and makes it an answer: the photo with its caption, or a plain
// reply when charts are off or the source cannot be reached.
func (h *Webhook) chartAnswer(ctx context.Context, chatID int64, ticker, rng string) (answer, error) {
	if h.chart == nil || h.photos == nil {
		return reply(chartsOffText), nil
	}
	img, err := h.chart.Handle(ctx, query.Chart{ChatID: chatID, Ticker: ticker, Range: rng})
	switch {
	case errors.Is(err, query.ErrHistoryUnavailable):
		return reply(chartUnavailableText), nil
	case errors.Is(err, stockalert.ErrNotFound):
		return reply(fmt.Sprintf("%s is not a symbol the quote source has prices of.", strings.ToUpper(ticker))), nil
	case err != nil:
		return answer{}, err
	}
	return answer{text: chartCaption(img), photo: img.PNG}, nil
}

// chartCaption is the photo's caption:
//
//	AAPL, 5d: last 201.30 USD
//	VOD.L, 1d: last 72.50 GBp (pence)
//	MSFT, 1mo: last 498.20 USD (simulated)
func chartCaption(img query.ChartImage) string {
	s := fmt.Sprintf("%s, %s: last %.2f %s", img.Ticker, img.Range, img.Last, img.Currency)
	if w := stockalert.CurrencyUnitWord(img.Currency); w != "" {
		s += " (" + w + ")"
	}
	if img.Simulated {
		s += " (simulated)"
	}
	return s
}
