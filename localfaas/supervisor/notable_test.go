package supervisor

import "testing"

func TestNotable(t *testing.T) {
	cases := map[string]bool{
		`{"time":"t","level":"INFO","msg":"collector run","event":"collector.run","tickers":3}`: true,
		`{"time":"t","level":"WARN","msg":"breaker open"}`:                                      true,
		`{"time":"t","level":"ERROR","msg":"db"}`:                                               true,
		`{"time":"t","level":"INFO","msg":"request"}`:                                           false,
		`time=t level=INFO msg="alert sent" event=alert.sent chat=1`:                            true,
		`time=t level=WARN msg=slow`:                                                            true,
		`time=t level=INFO msg=request path=/`:                                                  false,
		`localfaas: echo-1 exited (exit status 3) after 1s; restarting in 500ms`:                true,
		`localfaas: echo-1 started (pid 1, port 2)`:                                             false,
		`localfaas: echo-1 stopped`:                                                             false,
		`plain output`:                                                                          false,
		`{not json`:                                                                             false,
	}
	for line, want := range cases {
		if got := Notable(line); got != want {
			t.Errorf("Notable(%q) = %v, want %v", line, got, want)
		}
	}
}
