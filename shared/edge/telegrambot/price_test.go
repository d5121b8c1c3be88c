package telegrambot_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/quotesource"
	"github.com/stockalert/stockalert/shared/stockalert"
	"github.com/stockalert/stockalert/shared/telegram/telegramtest"
	"github.com/stockalert/stockalert/shared/yahoo"
	"github.com/stockalert/stockalert/shared/yahoo/yahootest"
)

// newQuotes is the quote source as the telegram-bot function wires it: Yahoo's client (behind its
// breaker, which opens after 2 failures here) under a 30 s cache, over the fake Yahoo y.
func newQuotes(t testing.TB, y *yahootest.Server) *quotesource.Cache {
	t.Helper()
	client, err := yahoo.New(yahoo.Config{BaseURL: y.URL(), Timeout: 2 * time.Second, BreakerFailures: 2}, nil, nil)
	require.NoError(t, err)
	c, err := quotesource.NewCache(client, 30*time.Second, 0)
	require.NoError(t, err)
	return c
}

func TestPriceAnswersTheCurrentQuotes(t *testing.T) {
	b := newBot(t)
	b.yahoo.SetQuote("AAPL", 201.3, "USD", time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC))
	b.yahoo.SetPreviousClose("AAPL", 198.81, 0)
	b.yahoo.SetQuote("VOD.L", 72.5, "GBp", time.Date(2026, 2, 27, 16, 35, 0, 0, time.UTC))
	b.yahoo.SetPreviousClose("VOD.L", 74.02, 0)

	// Unlinked chats may ask too; their times are UTC.
	require.Equal(t, "AAPL: 201.30 USD, +2.49 (+1.25%) today, at 14:30 UTC", b.say(7, "/price aapl"))
	require.Equal(t, `AAPL: 201.30 USD, +2.49 (+1.25%) today, at 14:30 UTC
VOD.L: 72.50 GBp (pence), -1.52 (-2.05%) on the day, at 2026-02-27 16:35 UTC
XYZ: not a symbol the quote source knows`, b.say(7, "/price AAPL VOD.L XYZ aapl"))
	require.Equal(t, 1, b.yahoo.Requests("AAPL"), "the second /price read the cache")

	// A linked user reads them in their zone.
	code := b.registerUser("pat@example.com", "", stockalert.Thresholds{})
	b.say(42, "/start "+code)
	b.say(42, "/tz Europe/Paris")
	require.Equal(t, `AAPL: 201.30 USD, +2.49 (+1.25%) today, at 15:30 CET
VOD.L: 72.50 GBp (pence), -1.52 (-2.05%) on the day, at 2026-02-27 17:35 CET`, b.say(42, "/price AAPL VOD.L"))

	// In a group, anyone may ask.
	b.fake.SetChatMember(-100, 5, "member")
	status, replies := b.deliverRaw(telegramtest.GroupUpdate(-100, 5, "/price AAPL"))
	require.Equal(t, http.StatusOK, status)
	require.Len(t, replies, 1)
	require.Equal(t, "AAPL: 201.30 USD, +2.49 (+1.25%) today, at 14:30 UTC", replies[0].Text)
}

func TestPriceRefusesBadInputPlainly(t *testing.T) {
	b := newBot(t)
	require.Equal(t, "/price takes 1 to 5 symbols (Yahoo Finance's), for example /price AAPL or /price AAPL VOD.L BRK-B.", b.say(7, "/price"))
	require.Equal(t, "/price takes at most 5 symbols at a time: ask for the others in another /price.", b.say(7, "/price A B C D E F"))
	require.Equal(t, `That did not work: "A/B" is not a symbol: use letters and digits, joined by single . - = ^ & (a ^ may also lead), ending with a letter or digit. Send /help for the commands.`,
		b.say(7, "/price A/B"))
	require.Zero(t, b.yahoo.Requests(""), "nothing was asked of the source")
}

// When Yahoo cannot be reached (here: 500s, then the breaker open) the answer says prices are
// unavailable right now, never the error; a symbol that could be priced is still shown.
func TestPriceWhenTheSourceIsUnavailable(t *testing.T) {
	b := newBot(t)
	b.yahoo.SetQuote("AAPL", 201.3, "USD", time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC))
	b.yahoo.SetPreviousClose("AAPL", 0, 0)
	require.Equal(t, "AAPL: 201.30 USD at 14:30 UTC", b.say(7, "/price AAPL"))
	b.yahoo.Fail("MSFT", http.StatusInternalServerError, 100)
	require.Equal(t, "AAPL: 201.30 USD at 14:30 UTC\nMSFT: no price right now (the quote source cannot be reached)", b.say(7, "/price AAPL MSFT"))
	b.yahoo.Fail("", http.StatusBadGateway, 100)
	require.Equal(t, "Prices are unavailable right now: the quote source cannot be reached. Try again in a few minutes.", b.say(7, "/price MSFT NVDA"))
	require.Equal(t, "Prices are unavailable right now: the quote source cannot be reached. Try again in a few minutes.", b.say(7, "/price NVDA"))
}

// A burst of users asking for one symbol at once makes one call to Yahoo.
func TestPriceBurstMakesOneUpstreamCall(t *testing.T) {
	b := newBot(t)
	b.yahoo.SetQuote("AAPL", 201.3, "USD", time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC))
	const n = 20
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() { codes[i] = b.post(telegramtest.Update(int64(1000+i), "/price AAPL"), webhookSecret).Code })
	}
	wg.Wait()
	for i := range n {
		require.Equal(t, http.StatusOK, codes[i])
	}
	require.Len(t, b.fake.Messages(), n, "one reply per user")
	require.Equal(t, 1, b.yahoo.Requests("AAPL"))
}
