package localfaas

import (
	"context"
	"io"
	"net/http"
	"sort"
	"testing"
	"time"
)

// BenchmarkProxy measures what the gateway adds to an invocation: each iteration calls the function
// process directly and through /function/echo, and the percentiles of both are reported.
func BenchmarkProxy(b *testing.B) {
	gw := newTestGateway(b, newTestProvider(b, testStack, nil, nil))
	deployAndWait(b, gw.Provider, "echo")
	f, _ := gw.function("echo")
	in, err := f.pick()
	if err != nil {
		b.Fatal(err)
	}
	direct := in.urlString() + "/bench?x=1"
	viaGateway := gw.URL + "/function/echo/bench?x=1"
	client := &http.Client{}
	get := func(url string) time.Duration {
		start := time.Now()
		res, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
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
	p := newTestProvider(b, testStack, nil, nil)
	deployAndWait(b, p, "echo")
	f, _ := p.function("echo")
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		unlock := p.lock("echo")
		stopped := p.scaleTo(f, 0)
		unlock()
		awaitStopped(stopped, 10*time.Second)
		b.StartTimer()
		start := time.Now()
		if err := p.Scale("echo", 1); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		for f.ready() != nil && ctx.Err() == nil {
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

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)*50/100], s[min(len(s)-1, len(s)*99/100)]
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
