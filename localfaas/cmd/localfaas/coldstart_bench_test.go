package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/auth"
	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/internal/lftest"
)

// coldStartFunctions are the stack's functions the cold-start benchmark starts in turn.
var coldStartFunctions = []string{"user-commands", "stock-queries", "dashboard", "data-collector", "alert-system",
	"alert-notifier", "telegram-bot"}

// BenchmarkColdStart runs `make run` (this program on stack.yml, embedded Kafka and SQLite) and, in
// each op, scales one of the real functions (in turn) from 0 to 1 replica through the gateway and
// waits until the gateway reports it available: the process started, read its configuration and
// secrets, opened and migrated the store, and answered /_/health. Scaling it to 0 first, and waiting for
// that, is not timed. It reports the p50 and p99 of those starts in milliseconds; give -benchtime a
// count (e.g. 35x: five starts of each function).
func BenchmarkColdStart(b *testing.B) {
	p := startProgram(b, filepath.Join("..", "..", "..", "stack.yml"),
		"KAFKA_BROKERS=", "MYSQL_DSN=", "TELEGRAM_BOT_TOKEN=", "TELEGRAM_API_URL=", "TELEGRAM_WEBHOOK_SECRET=",
		"FUNCTION_LOGS=none", "QUOTE_SOURCE=", "COLLECTOR_SCHEDULE=@every 1h")
	p.waitReady(3 * time.Minute)
	creds := &auth.BasicAuthCredentials{User: "admin", Password: p.password()}
	available := func(fn string) int {
		r := lftest.Call(b, http.MethodGet, p.gateway+"/system/function/"+fn, creds, nil)
		var st types.FunctionStatus
		if r.Status != http.StatusOK || json.Unmarshal([]byte(r.Body), &st) != nil {
			b.Fatalf("status of %s: %d %s", fn, r.Status, r.Body)
		}
		return int(st.AvailableReplicas)
	}
	scale := func(fn string, n uint64) {
		lftest.ExpectStatus(b, lftest.Call(b, http.MethodPost, p.gateway+"/system/scale-function/"+fn, creds,
			types.ScaleServiceRequest{ServiceName: fn, Replicas: n}), http.StatusAccepted, "scale "+fn)
	}
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		fn := coldStartFunctions[i%len(coldStartFunctions)]
		b.StopTimer()
		scale(fn, 0)
		p.waitFor(30*time.Second, fn+" to stop", func() bool { return available(fn) == 0 })
		b.StartTimer()
		start := time.Now()
		scale(fn, 1)
		for available(fn) != 1 {
			if time.Since(start) > time.Minute {
				b.Fatalf("%s did not start within a minute", fn)
			}
			time.Sleep(time.Millisecond)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	pct := func(q float64) float64 {
		return float64(took[min(len(took)-1, int(q*float64(len(took))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.Logf("%d starts of %v", len(took), fmt.Sprint(coldStartFunctions))
}
