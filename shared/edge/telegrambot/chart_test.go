package telegrambot_test

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/chart"
	"github.com/stockalert/stockalert/shared/edge/telegrambot"
	"github.com/stockalert/stockalert/shared/quotesource"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// newHistories is the history source the bot's charts read: Yahoo's client (breaker opening after
// two failures) behind the history cache.
func newHistories(t testing.TB, y *yahootest.Server) *quotesource.HistoryCache {
	t.Helper()
	client, err := yahoo.New(yahoo.Config{BaseURL: y.URL(), Timeout: 2 * time.Second, BreakerFailures: 2}, nil, nil)
	require.NoError(t, err)
	c, err := quotesource.NewHistoryCache(client, time.Minute, 0)
	require.NoError(t, err)
	return c
}

func f64(v float64) *float64 { return &v }

// setHistory gives ticker a 5-bar history over rng in Yahoo's fake.
func setHistory(y *yahootest.Server, ticker, rng, currency string, last float64) {
	t0 := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	bars := make([]yahootest.Bar, 5)
	for i := range bars {
		bars[i] = yahootest.Bar{Time: t0.Add(time.Duration(i) * 5 * time.Minute), Close: f64(last - float64(4-i))}
	}
	y.SetHistory(ticker, rng, currency, bars)
}

// photosAfter delivers update and returns the photos sent meanwhile, requiring a 200 and no text.
func (b *bot) photosAfter(update []byte) []telegramtest.SentPhoto {
	b.t.Helper()
	before := len(b.fake.Photos())
	status, msgs := b.deliverRaw(update)
	require.Equal(b.t, http.StatusOK, status)
	require.Empty(b.t, msgs, "a photo, no text")
	return b.fake.Photos()[before:]
}

func requirePNG(t *testing.T, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	require.Equal(t, chart.Width, img.Bounds().Dx())
	require.Equal(t, chart.Height, img.Bounds().Dy())
}

func TestChartSendsAPhotoWithItsCaption(t *testing.T) {
	b := newBot(t)
	b.linked(42, "pat@example.com")
	b.recordPrice("VOD.L", 72.5, time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC))
	require.Contains(t, b.say(42, "/watch VOD.L above 80"), "Rule 1")
	setHistory(b.yahoo, "VOD.L", "5d", "GBp", 72.5)
	setHistory(b.yahoo, "AAPL", "1d", "USD", 201.3)

	photos := b.photosAfter(telegramtest.Update(42, "/chart vod.l 5d"))
	require.Len(t, photos, 1)
	require.Equal(t, int64(42), photos[0].ChatID)
	require.Equal(t, "VOD.L, 5d: last 72.50 GBp (pence)", photos[0].Caption)
	requirePNG(t, photos[0].Photo)

	// No range: 1d. An unlinked chat gets the chart too.
	photos = b.photosAfter(telegramtest.Update(77, "/chart AAPL"))
	require.Len(t, photos, 1)
	require.Equal(t, "AAPL, 1d: last 201.30 USD", photos[0].Caption)
}

func TestChartAnswersBadInputAndFailuresInPlainWords(t *testing.T) {
	b := newBot(t)
	require.Equal(t, "/chart takes a symbol and, if you like, a range: 1d, 5d, 1mo, 6mo or 1y (1d when left out), "+
		"for example /chart AAPL or /chart VOD.L 6mo.", b.say(42, "/chart"))
	require.Equal(t, "2w is not a chart range. /chart takes a symbol and, if you like, a range: 1d, 5d, 1mo, 6mo or 1y "+
		"(1d when left out), for example /chart AAPL or /chart VOD.L 6mo.", b.say(42, "/chart AAPL 2w"))
	require.Equal(t, "That did not work: \"AA/PL\" is not a symbol: use letters and digits, joined by single . - = ^ & "+
		"(a ^ may also lead), ending with a letter or digit. Send /help for the commands.",
		b.say(42, "/chart AA/PL"))
	require.Equal(t, "NOPE is not a symbol the quote source has prices of.", b.say(42, "/chart nope"))

	// Yahoo down: the breaker opens after two failures; every ask gets the same plain reply.
	b.yahoo.Fail("", http.StatusServiceUnavailable, 2)
	for _, ticker := range []string{"MSFT", "NVDA", "AMD"} {
		require.Equal(t, "Charts are unavailable right now: the quote source cannot be reached. Try again in a few minutes.",
			b.say(42, "/chart "+ticker))
	}
	require.Equal(t, 0, b.yahoo.Requests("AMD"), "the third ask met the open breaker")
	require.Empty(t, b.fake.Photos())
}

// The alert's "Chart" button sends the same picture as /chart <TICKER> to the chat, and answers the
// press.
func TestChartButtonSendsThePicture(t *testing.T) {
	b := newBot(t)
	b.linked(42, "pat@example.com")
	setHistory(b.yahoo, "MSFT", "1d", "USD", 498.2)

	rows := telegrambot.AlertKeyboard(stockalert.AlertEvent{EventID: "e-1", Ticker: "MSFT", RuleID: "17",
		Kind: stockalert.KindAbove, Condition: stockalert.Above, Price: 498.2, Currency: "USD", Threshold: 490})
	require.Len(t, rows, 1)
	kb := rows[0][len(rows[0])-1]
	require.Equal(t, stockalert.ChatButton{Text: "Chart", Data: "chart:MSFT"}, kb)

	before := len(b.fake.Photos())
	status, notice, msgs := b.press(42, 42, kb.Data)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Chart sent", notice)
	require.Empty(t, msgs)
	photos, err := b.fake.WaitPhotos(context.Background(), before+1)
	require.NoError(t, err)
	require.Equal(t, "MSFT, 1d: last 498.20 USD", photos[before].Caption)
	requirePNG(t, photos[before].Photo)

	fromCommand := b.photosAfter(telegramtest.Update(42, "/chart MSFT"))
	require.Equal(t, photos[before].Photo, fromCommand[0].Photo, "the same picture")

	status, notice, _ = b.press(42, 42, "chart:NOPE")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "NOPE is not a symbol the quote source has prices of.", notice)
}
