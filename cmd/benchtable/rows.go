package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// The packages whose benchmarks the table reads.
const (
	pkgCollector  = "github.com/stockalert/stockalert/shared/collector"
	pkgStore      = "github.com/stockalert/stockalert/shared/sqlstore"
	pkgTelegram   = "github.com/stockalert/stockalert/shared/telegram"
	pkgProgram    = "github.com/stockalert/stockalert/localfaas/cmd/localfaas"
	pkgSupervisor = "github.com/stockalert/stockalert/localfaas/supervisor"
)

// Goal is a row's target: the figure compared with Value by Op ("<", "<=", ">=", "="); Op "" is a
// figure without a goal.
type Goal struct {
	Op    string
	Value float64
}

func (g Goal) met(v float64) bool {
	switch g.Op {
	case "<":
		return v < g.Value
	case "<=":
		return v <= g.Value
	case ">=":
		return v >= g.Value
	case "=":
		return v == g.Value
	}
	return false
}

// Row is one line of the table. OK is false when its benchmark did not run. Ratio is Baseline/Figure
// for costs (lower is better) and the figure itself for rows that are a ratio; GoalOnRatio says the goal
// applies to the ratio rather than the figure.
type Row struct {
	What             string
	Unit             string
	Figure, Baseline float64
	HasBaseline      bool
	BaselineWhat     string
	Goal             Goal
	GoalOnRatio      bool
	NoRatio          bool // the baseline is shown for reference only (a count, not a cost)
	OK               bool
}

// Ratio is Baseline/Figure (how many times better than the baseline the figure is); 0 without one.
func (r Row) Ratio() float64 {
	if !r.HasBaseline || r.NoRatio || r.Figure == 0 {
		return 0
	}
	return r.Baseline / r.Figure
}

// Met says whether the goal is met: "yes", "no", "—" (no goal) or "not run".
func (r Row) Met() string {
	switch {
	case !r.OK:
		return "not run"
	case r.Goal.Op == "":
		return "—"
	case r.GoalOnRatio && r.Goal.met(r.Ratio()), !r.GoalOnRatio && r.Goal.met(r.Figure):
		return "yes"
	}
	return "no"
}

// Rows builds the table from the results and the partitions make run gives its topics.
func Rows(res Results, partitions int) []Row {
	var rows []Row
	cost := func(what, unit, pkg, name, metric, basePkg, baseName, baseMetric, baseWhat string, g Goal, onRatio bool, scale float64) {
		fig, ok := res.Get(pkg, name, metric)
		base, hasBase := res.Get(basePkg, baseName, baseMetric)
		rows = append(rows, Row{What: what, Unit: unit, Figure: fig * scale, Baseline: base * scale, HasBaseline: hasBase,
			BaselineWhat: baseWhat, Goal: g, GoalOnRatio: onRatio, OK: ok && (hasBase || baseName == "")})
	}
	// Collection (shared/collector's BenchmarkCollection, 5,000 tickers, upstream answering in 50 ms).
	cost("collection of 5,000 tickers", "s", pkgCollector, "Collection/batched", "run-s",
		pkgCollector, "Collection/sequential", "run-s", "sequential", Goal{"<", 3}, false, 1)
	cost("collection × sequential", "s", pkgCollector, "Collection/batched", "run-s",
		pkgCollector, "Collection/sequential", "run-s", "sequential", Goal{">=", 80}, true, 1)
	// The baseline is the sequential path's requests, counted by the fake Yahoo in the same run (one per
	// ticker), not a constant.
	req, ok := res.Get(pkgCollector, "Collection/batched", "requests/run")
	seqReq, hasSeq := res.Get(pkgCollector, "Collection/sequential", "requests/run")
	rows = append(rows, Row{What: "Yahoo requests per collection", Unit: "requests", Figure: req, Baseline: seqReq,
		HasBaseline: hasSeq, BaselineWhat: "sequential, one per ticker", Goal: Goal{"<=", 500}, OK: ok})
	conns, ok := res.Get(pkgCollector, "Collection/batched", "new-conns/run")
	rows = append(rows, Row{What: "new connections per collection", Unit: "conns", Figure: conns, OK: ok})
	// Evaluation (shared/sqlstore's BenchmarkEvaluatePrice, 100,000 rules; -1M with BENCH_SCALE).
	for _, st := range []struct{ name, label string }{
		{"mysql", "MariaDB 100k"}, {"sqlite", "SQLite 100k"}, {"mysql-1M", "MariaDB 1M"}, {"sqlite-1M", "SQLite 1M"},
	} {
		g := Goal{}
		if st.name == "mysql" {
			g = Goal{">=", 50}
		}
		cost("set-based find vs per-rule, "+st.label, "ms", pkgStore, "EvaluatePrice/"+st.name+"/find/set-based", "sec/op",
			pkgStore, "EvaluatePrice/"+st.name+"/find/per-rule", "sec/op", "per-rule queries", g, true, 1000)
	}
	for _, st := range []struct{ name, label string }{
		{"sqlite", "SQLite 100k"}, {"mysql", "MariaDB 100k"}, {"sqlite-1M", "SQLite 1M"}, {"mysql-1M", "MariaDB 1M"},
	} {
		g := Goal{"<", 5}
		if strings.HasSuffix(st.name, "-1M") {
			g = Goal{}
		}
		cost("EvaluatePrice p99, "+st.label, "ms", pkgStore, "EvaluatePrice/"+st.name+"/evaluate", "p99-ms",
			pkgStore, "EvaluatePrice/"+st.name+"/find/per-rule", "p99-ms", "per-rule find alone", g, false, 1)
	}
	// The hot ticker and delivery: figures without goals.
	for _, st := range []struct{ name, label string }{{"sqlite", "SQLite"}, {"mysql", "MariaDB"}} {
		v, ok := res.Get(pkgStore, "HotTicker/"+st.name, "alerts/s")
		rows = append(rows, Row{What: "hot ticker (50,000 alerts), " + st.label, Unit: "alerts/s", Figure: v, OK: ok})
	}
	v, ok := res.Get(pkgTelegram, "Delivery", "msgs/s")
	rows = append(rows, Row{What: "Telegram delivery, one bot", Unit: "msgs/s", Figure: v, OK: ok})
	v, ok = res.Get(pkgTelegram, "Delivery", "min/50k-alerts")
	rows = append(rows, Row{What: "Telegram, 50,000 alerts", Unit: "min", Figure: v, OK: ok})
	// Topics: the partitions make run creates (stack.yml), beside the embedded broker's default.
	rows = append(rows, Row{What: "topic partitions under make run", Unit: "partitions", Figure: float64(partitions),
		Baseline: 3, HasBaseline: true, NoRatio: true, BaselineWhat: "broker default", Goal: Goal{"=", 6}, OK: partitions > 0})
	// Cold start of the real functions, beside the test stack's echo function.
	cost("cold start p99, real functions", "ms", pkgProgram, "ColdStart", "p99-ms",
		pkgSupervisor, "ColdStart", "p99-ms", "echo test function", Goal{"<", 100}, false, 1)
	return rows
}

// Render prints the rows as an aligned text table.
func Render(rows []Row) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "what\tfigure\tbaseline (same run)\tratio\tgoal\tmet")
	for _, r := range rows {
		fig, base, ratio, goal := "not run", "—", "—", "—"
		if r.OK {
			fig = num(r.Figure) + " " + r.Unit
		}
		if r.HasBaseline {
			base = r.BaselineWhat
			if r.OK {
				base = num(r.Baseline) + " " + r.Unit + " (" + r.BaselineWhat + ")"
				if !r.NoRatio {
					ratio = num(r.Ratio()) + "×"
				}
			}
		}
		if r.Goal.Op != "" {
			unit := " " + r.Unit
			if r.GoalOnRatio {
				unit = "×"
			}
			if r.Goal.Op == "=" {
				goal = num(r.Goal.Value) + unit
			} else {
				goal = r.Goal.Op + " " + num(r.Goal.Value) + unit
			}
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.What, fig, base, ratio, goal, r.Met())
	}
	_ = tw.Flush() // writes to a strings.Builder, which does not fail (nor do the Fprints above)
	return b.String()
}

// num prints v with three significant figures, and integers as such.
func num(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.3g", v)
}
