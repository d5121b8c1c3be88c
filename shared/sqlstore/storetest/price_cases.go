package storetest

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

func quote(t string, price float64, at time.Time) stockalert.Quote {
	return stockalert.Quote{Ticker: stockalert.Ticker(t), Price: price, Currency: "USD", Time: at}
}

func (f *fixture) recordQuotes(qs ...stockalert.Quote) {
	f.t.Helper()
	require.NoError(f.t, f.recordPrices.Handle(f.ctx, command.RecordPrices{Quotes: qs}))
}

// outbox returns the messages queued on topic, oldest first, and their decoded events.
func outbox[E any](f *fixture, topic string) ([]stockalert.OutboxMessage, []E) {
	f.t.Helper()
	msgs, err := f.store.PendingOutbox(f.ctx, topic, 10_000)
	require.NoError(f.t, err)
	out := make([]E, len(msgs))
	for i, m := range msgs {
		require.Equal(f.t, topic, m.Topic)
		require.NoError(f.t, json.Unmarshal(m.Value, &out[i]))
	}
	return msgs, out
}

// events returns the decoded events queued on topic.
func events[E any](f *fixture, topic string) []E {
	f.t.Helper()
	_, out := outbox[E](f, topic)
	return out
}

var priceCases = []contractCase{
	{"RecordPrices/stores a batch and queues one event per new quote", func(t *testing.T, f *fixture) {
		t0 := f.clock.Now().Add(-time.Minute)
		f.recordQuotes(quote("AAPL", 190.5, t0), quote("MSFT", 410.25, t0), quote("AAPL", 191, t0.Add(time.Second)))
		require.Equal(t, 3, f.count("prices", ""))
		evs := events[stockalert.PriceEvent](f, stockalert.TopicPrices)
		require.Len(t, evs, 3)
		ids := map[string]bool{}
		for _, e := range evs {
			require.NotEmpty(t, e.EventID)
			ids[e.EventID] = true
			require.Equal(t, "USD", e.Currency)
		}
		require.Len(t, ids, 3, "event ids are unique")
		require.Equal(t, stockalert.Ticker("AAPL"), evs[0].Ticker)
		require.Equal(t, 190.5, evs[0].Price)
		require.True(t, t0.Equal(evs[0].Time))
		msgs, err := f.store.PendingOutbox(f.ctx, stockalert.TopicPrices, 10)
		require.NoError(t, err)
		require.Equal(t, "AAPL", msgs[0].Key, "events are keyed by ticker")
	}},
	{"RecordPrices/is idempotent on (ticker, quote time)", func(t *testing.T, f *fixture) {
		t0 := f.clock.Now()
		batch := []stockalert.Quote{quote("AAPL", 190, t0), quote("AAPL", 190, t0), quote("MSFT", 400, t0)}
		f.recordQuotes(batch...)
		f.recordQuotes(batch...)
		f.recordQuotes(quote("AAPL", 999, t0), quote("NVDA", 120, t0))
		require.Equal(t, 3, f.count("prices", ""))
		require.Equal(t, 190.0, f.latestPrice("AAPL").Price, "the first recording of a (ticker, time) wins")
		require.Len(t, events[stockalert.PriceEvent](f, stockalert.TopicPrices), 3, "repeats queue nothing")
	}},
	{"RecordPrices/rejects a bad quote by position and writes nothing", func(t *testing.T, f *fixture) {
		t0 := f.clock.Now()
		for _, c := range []struct {
			q     stockalert.Quote
			field string
		}{
			{quote("AAPL", -1, t0), "quotes[1].price"},
			{quote("AA PL", 1, t0), "quotes[1].ticker"},
			{stockalert.Quote{Ticker: "AAPL", Price: 1, Currency: "US Dollar", Time: t0}, "quotes[1].currency"},
			{stockalert.Quote{Ticker: "AAPL", Price: 1}, "quotes[1].time"},
		} {
			err := f.recordPrices.Handle(f.ctx, command.RecordPrices{Quotes: []stockalert.Quote{quote("MSFT", 1, t0), c.q}})
			requireField(t, err, c.field)
		}
		require.Zero(t, f.count("prices", ""))
		require.Zero(t, f.count("outbox", ""))
	}},
	{"RecordPrices/a batch of 1,200 quotes spans statements", func(t *testing.T, f *fixture) {
		t0 := f.clock.Now()
		var qs []stockalert.Quote
		for i := range 1200 {
			qs = append(qs, quote("T"+strconv.Itoa(i%40), float64(i+1), t0.Add(time.Duration(i/40)*time.Minute)))
		}
		f.recordQuotes(qs...)
		f.recordQuotes(qs[500:700]...)
		require.Equal(t, 1200, f.count("prices", ""))
		require.Len(t, events[stockalert.PriceEvent](f, stockalert.TopicPrices), 1200)
	}},
	{"LatestPrice/the newest quote, by ticker or the user's only ticker", func(t *testing.T, f *fixture) {
		r := f.registerUser("mo@example.com", "AAPL", th(nil, nil))
		t0 := f.clock.Now()
		f.recordQuotes(quote("AAPL", 1, t0.Add(-2*time.Minute)), quote("AAPL", 3, t0), quote("AAPL", 2, t0.Add(-time.Minute)),
			quote("MSFT", 7, t0.Add(time.Hour)))
		p, err := f.latest.Handle(f.ctx, query.LatestPrice{Email: r.email})
		require.NoError(t, err)
		require.Equal(t, query.Price{Ticker: "AAPL", Price: 3, Currency: "USD", Time: t0}, p)
		p, err = f.latest.Handle(f.ctx, query.LatestPrice{Email: r.email, Ticker: "msft"})
		require.NoError(t, err)
		require.Equal(t, 7.0, p.Price)

		_, err = f.latest.Handle(f.ctx, query.LatestPrice{Email: r.email, Ticker: "NVDA"})
		requireIs(t, err, stockalert.ErrNotFound)
		_, err = f.latest.Handle(f.ctx, query.LatestPrice{Email: r.email, Ticker: "??"})
		requireField(t, err, "ticker")
		require.NoError(t, f.subscribe.Handle(f.ctx, command.Subscribe{Email: r.email, Ticker: "MSFT"}))
		_, err = f.latest.Handle(f.ctx, query.LatestPrice{Email: r.email})
		requireField(t, err, "ticker")
	}},
	{"Prices/simulated quotes are recorded and read as simulated, and never averaged with real ones", func(t *testing.T, f *fixture) {
		r := f.registerUser("sim@example.com", "AAPL", th(nil, nil))
		t0 := f.clock.Now()
		simulated := func(p float64, at time.Time) stockalert.Quote {
			q := quote("AAPL", p, at)
			q.Source = stockalert.QuoteSourceSimulated
			return q
		}
		// Simulated first (QUOTE_SOURCE=simulated), then real quotes from Yahoo.
		f.recordQuotes(simulated(36.73, t0.Add(-3*time.Minute)), simulated(37.10, t0.Add(-2*time.Minute)))
		require.Equal(t, 2, f.count("prices", "source = ?", "simulated"))
		p, err := f.latest.Handle(f.ctx, query.LatestPrice{Email: r.email})
		require.NoError(t, err)
		require.True(t, p.Simulated)
		a, err := f.average.Handle(f.ctx, query.AveragePrice{Email: r.email, Count: 10})
		require.NoError(t, err)
		require.InDelta(t, 36.915, a.Average, 1e-9)
		require.Equal(t, query.Average{Ticker: "AAPL", Average: a.Average, Count: 2, Simulated: true}, a)

		f.recordQuotes(quote("AAPL", 270, t0.Add(-time.Minute)), quote("AAPL", 272, t0))
		require.Equal(t, 2, f.count("prices", "source = ?", "yahoo"))
		p, err = f.latest.Handle(f.ctx, query.LatestPrice{Email: r.email})
		require.NoError(t, err)
		require.False(t, p.Simulated)
		require.Equal(t, 272.0, p.Price)
		a, err = f.average.Handle(f.ctx, query.AveragePrice{Email: r.email, Count: 10})
		require.NoError(t, err)
		require.Equal(t, query.Average{Ticker: "AAPL", Average: 271, Count: 2}, a, "the simulated prices stay out")
	}},
	{"AveragePrice/the mean of the last N, counting what was averaged", func(t *testing.T, f *fixture) {
		r := f.registerUser("ned@example.com", "AAPL", th(nil, nil))
		t0 := f.clock.Now()
		for i, p := range []float64{10, 20, 30, 40} { // oldest first
			f.recordQuotes(quote("AAPL", p, t0.Add(time.Duration(i)*time.Minute)))
		}
		a, err := f.average.Handle(f.ctx, query.AveragePrice{Email: r.email, Count: 2})
		require.NoError(t, err)
		require.Equal(t, query.Average{Ticker: "AAPL", Average: 35, Count: 2}, a)
		a, err = f.average.Handle(f.ctx, query.AveragePrice{Email: r.email, Ticker: "AAPL", Count: 10})
		require.NoError(t, err)
		require.Equal(t, query.Average{Ticker: "AAPL", Average: 25, Count: 4}, a)

		for _, n := range []int{0, -1, query.MaxAverageCount + 1} {
			_, err = f.average.Handle(f.ctx, query.AveragePrice{Email: r.email, Count: n})
			requireField(t, err, "count")
		}
		_, err = f.average.Handle(f.ctx, query.AveragePrice{Email: r.email, Ticker: "MSFT", Count: 3})
		requireIs(t, err, stockalert.ErrNotFound)
	}},
}

func (f *fixture) latestPrice(t string) query.Price {
	f.t.Helper()
	p, err := f.store.LatestPrice(f.ctx, stockalert.Ticker(t))
	require.NoError(f.t, err)
	return p
}
