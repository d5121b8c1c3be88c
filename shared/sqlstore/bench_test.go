package sqlstore_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/command"
	"github.com/stockalert/stockalert/shared/sqlstore/storetest"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// benchStores are the stores the benchmarks compare: SQLite always, MySQL/MariaDB with MYSQL_DSN.
func benchStores() []struct {
	name string
	open storetest.Opener
} {
	stores := []struct {
		name string
		open storetest.Opener
	}{{"sqlite", storetest.OpenSQLite}}
	if os.Getenv("MYSQL_DSN") != "" {
		stores = append(stores, struct {
			name string
			open storetest.Opener
		}{"mysql", storetest.OpenMySQL})
	}
	return stores
}

// BenchmarkRecordPrices: one collector batch of 1,000 new quotes (one per ticker) through the
// RecordPrices command: duplicate look-up, multi-row insert and 1,000 outbox events, in one transaction.
func BenchmarkRecordPrices(b *testing.B) {
	for _, st := range benchStores() {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			record := command.NewRecordPricesHandler(s, stockalert.TopicPrices, nil, nil)
			ctx := context.Background()
			t0 := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
			batch := make([]stockalert.Quote, 1000)
			for i := 0; b.Loop(); i++ {
				for j := range batch {
					batch[j] = stockalert.Quote{Ticker: stockalert.Ticker(ticker(j)), Price: 100 + float64(j%50),
						Currency: "USD", Time: t0.Add(time.Duration(i) * time.Minute)}
				}
				if err := record.Handle(ctx, command.RecordPrices{Quotes: batch}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "quotes/s")
		})
	}
}
