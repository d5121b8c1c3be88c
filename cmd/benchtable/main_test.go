package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/bench.txt is output captured from this repository's benchmarks (sqlstore, telegram,
// localfaas), with BenchmarkCollection's lines written in the shape shared/collector reports them
// (run-s, requests/run, new-conns/run) and no supervisor ColdStart line.
func readCaptured(t *testing.T) Results {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() }) // read-only
	res := Results{}
	if err := res.Read(f, "bench.txt"); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestReadKeysByPackageNameAndUnit(t *testing.T) {
	res := readCaptured(t)
	for _, c := range []struct {
		pkg, name, unit string
		want            float64
	}{
		{pkgStore, "EvaluatePrice/mysql/find/per-rule", "sec/op", 0.017043344}, // ns/op is tidied to seconds
		{pkgStore, "EvaluatePrice/sqlite/evaluate", "p99-ms", 12.40},
		{pkgStore, "HotTicker/sqlite", "alerts/s", 22735},
		{pkgTelegram, "Delivery", "msgs/s", 30.33},
		{pkgProgram, "ColdStart", "p99-ms", 48.38},
		{pkgCollector, "Collection/batched", "requests/run", 100},
	} {
		got, ok := res.Get(c.pkg, c.name, c.unit)
		if !ok || got < c.want*(1-1e-9) || got > c.want*(1+1e-9) {
			t.Errorf("%s %s %s = %v, %v; want %v", c.pkg, c.name, c.unit, got, ok, c.want)
		}
	}
	if _, ok := res.Get(pkgSupervisor, "ColdStart", "p99-ms"); ok {
		t.Error("a ColdStart of another package was taken for the supervisor's")
	}
}

func TestRowsRatiosGoalsAndNotRun(t *testing.T) {
	rows := map[string]Row{}
	for _, r := range Rows(readCaptured(t), 6) {
		rows[r.What] = r
	}
	check := func(what string, ratio float64, met string) {
		t.Helper()
		r, ok := rows[what]
		if !ok {
			t.Fatalf("no row %q", what)
		}
		if got := r.Ratio(); (got-ratio)/max(ratio, 1e-9) > 1e-3 || (ratio-got)/max(ratio, 1e-9) > 1e-3 {
			t.Errorf("%s: ratio %v, want %v", what, got, ratio)
		}
		if got := r.Met(); got != met {
			t.Errorf("%s: met %q, want %q", what, got, met)
		}
	}
	check("collection of 5,000 tickers", 100, "yes")                           // 2.1 s < 3 s
	check("collection × sequential", 100, "yes")                               // 210/2.1 ≥ 80
	check("Yahoo requests per collection", 50, "yes")                          // 100 ≤ 500
	check("set-based find vs per-rule, MariaDB 100k", 17043344.0/553241, "no") // 30.8× < 50×
	check("set-based find vs per-rule, SQLite 100k", 3719189.0/185482, "—")    // no goal
	check("EvaluatePrice p99, SQLite 100k", 5.731/12.40, "no")                 // 12.4 ms ≥ 5 ms
	check("EvaluatePrice p99, MariaDB 100k", 49.95/7.554, "no")                // 7.55 ms ≥ 5 ms
	check("set-based find vs per-rule, MariaDB 1M", 0, "not run")              // no BENCH_SCALE rows
	check("hot ticker (50,000 alerts), MariaDB", 0, "not run")                 // no mysql line
	check("topic partitions under make run", 0, "yes")                         // 6 = 6, no ratio
	check("cold start p99, real functions", 0, "not run")                      // its baseline is missing
	if r := rows["set-based find vs per-rule, MariaDB 100k"]; r.Figure != 0.553241 {
		t.Errorf("set-based figure %v ms, want 0.553241 (sec/op × 1000)", r.Figure)
	}
}

func TestRenderPrintsOneLinePerRow(t *testing.T) {
	rows := Rows(readCaptured(t), 3)
	out := Render(rows)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(rows)+1 {
		t.Fatalf("%d lines for %d rows:\n%s", len(lines), len(rows), out)
	}
	for _, want := range []string{"30.8×", "not run", "3 partitions    3 partitions (broker default)", "no\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// The requests row's baseline is the sequential path's count from the same run, not a constant.
func TestRequestsBaselineIsMeasured(t *testing.T) {
	res := Results{}
	res[key(pkgCollector, "Collection/batched", "requests/run")] = 100
	requests := func() Row {
		for _, r := range Rows(res, 6) {
			if r.What == "Yahoo requests per collection" {
				return r
			}
		}
		t.Fatal("no requests row")
		return Row{}
	}
	if r := requests(); r.HasBaseline || r.Met() != "yes" {
		t.Errorf("without the sequential run: baseline %v (%t), met %q", r.Baseline, r.HasBaseline, r.Met())
	}
	res[key(pkgCollector, "Collection/sequential", "requests/run")] = 4950
	if r := requests(); !r.HasBaseline || r.Baseline != 4950 || r.Ratio() != 49.5 {
		t.Errorf("baseline %v (%t), ratio %v; want 4950, 49.5", r.Baseline, r.HasBaseline, r.Ratio())
	}
}
