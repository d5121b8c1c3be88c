package autoscale_test

import (
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/autoscale"
	"github.com/stockalert/stockalert/localfaas/internal/lftest"
)

// BenchmarkScaleFromZero measures a call to a function at zero replicas (the wake-up: start a process,
// wait for its health check, relay the call) against a call to the same function once woken, and
// reports the wake-up's p50 and p99.
//
//	go test ./localfaas/autoscale/ -run '^$' -bench ScaleFromZero -benchtime 50x
func BenchmarkScaleFromZero(b *testing.B) {
	gw, _ := scalingGateway(b, autoscale.Config{}, 30*time.Second)
	gw.DeployAndWait(b, "echo")
	var cold, warm []time.Duration
	for b.Loop() {
		lftest.ExpectStatus(b, lftest.Call(b, "POST", gw.URL+"/system/scale-function/echo", lftest.Creds,
			types.ScaleServiceRequest{ServiceName: "echo", Replicas: 0}), http.StatusAccepted, "scale to 0")
		start := time.Now()
		lftest.ExpectStatus(b, lftest.Call(b, "GET", gw.URL+"/function/echo", nil, nil), http.StatusOK, "first call")
		cold = append(cold, time.Since(start))
		start = time.Now()
		lftest.ExpectStatus(b, lftest.Call(b, "GET", gw.URL+"/function/echo", nil, nil), http.StatusOK, "next call")
		warm = append(warm, time.Since(start))
	}
	b.ReportMetric(quantile(cold, .5).Seconds()*1e3, "cold-p50-ms")
	b.ReportMetric(quantile(cold, .99).Seconds()*1e3, "cold-p99-ms")
	b.ReportMetric(quantile(warm, .5).Seconds()*1e3, "warm-p50-ms")
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[min(len(d)-1, int(q*float64(len(d))))]
}
