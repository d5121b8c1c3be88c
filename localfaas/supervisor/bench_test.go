package supervisor_test

import (
	"context"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/logs"

	"github.com/stockalert/stockalert/localfaas/internal/lftest"
)

// BenchmarkProxy measures what the gateway adds to an invocation: each iteration calls the function
// process directly and through /function/echo, and the percentiles of both are reported.
func BenchmarkProxy(b *testing.B) {
	gw := lftest.NewGateway(b, lftest.Stack, nil, nil)
	gw.DeployAndWait(b, "echo")
	u, err := gw.Resolve("echo")
	if err != nil {
		b.Fatal(err)
	}
	direct := u.String() + "/bench?x=1"
	viaGateway := gw.URL + "/function/echo/bench?x=1"
	client := &http.Client{}
	get := func(url string) time.Duration {
		start := time.Now()
		req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, url, http.NoBody)
		if err != nil {
			b.Fatal(err)
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, res.Body)
		if cerr := res.Body.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", url, res.StatusCode)
		}
		return time.Since(start)
	}
	for range 50 { // warm up connections on both hops
		get(direct)
		get(viaGateway)
	}
	directTimes := make([]time.Duration, 0, b.N)
	gatewayTimes := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		directTimes = append(directTimes, get(direct))
		gatewayTimes = append(gatewayTimes, get(viaGateway))
	}
	b.StopTimer()
	dp50, dp99 := percentiles(directTimes)
	gp50, gp99 := percentiles(gatewayTimes)
	b.ReportMetric(us(dp50), "direct-p50-µs")
	b.ReportMetric(us(dp99), "direct-p99-µs")
	b.ReportMetric(us(gp50), "gateway-p50-µs")
	b.ReportMetric(us(gp99), "gateway-p99-µs")
	b.ReportMetric(us(gp50-dp50), "added-p50-µs")
	b.ReportMetric(us(gp99-dp99), "added-p99-µs")
}

// BenchmarkColdStart measures the time from starting a function process to its first healthy
// /_/health, by scaling a function from 0 to 1.
func BenchmarkColdStart(b *testing.B) {
	p := lftest.NewGateway(b, lftest.Stack, nil, nil)
	p.DeployAndWait(b, "echo")
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		if err := p.Scale("echo", 0); err != nil {
			b.Fatal(err)
		}
		// The process has exited when its "stopped" line is in the logs.
		lftest.Eventually(b, 10*time.Second, "the process to stop", func() bool {
			return stoppedLines(b, p) > i
		})
		b.StartTimer()
		start := time.Now()
		if err := p.Scale("echo", 1); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		for p.Ready("echo") != nil && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	p50, p99 := percentiles(times)
	b.ReportMetric(float64(p50.Milliseconds()), "p50-ms")
	b.ReportMetric(float64(p99.Milliseconds()), "p99-ms")
}

func stoppedLines(b *testing.B, p *lftest.Gateway) int {
	ch, err := p.Query(b.Context(), logs.Request{Name: "echo"})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for m := range ch {
		if strings.HasSuffix(m.Text, " stopped") {
			n++
		}
	}
	return n
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)*50/100], s[min(len(s)-1, len(s)*99/100)]
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
