// Command benchtable reads `go test -bench` output and prints the one table of issue 16's figures
// ("Scale"): for each row, the figure, its baseline measured in the same run, the ratio and the goal,
// and whether the goal is met. `make bench` pipes its benchmarks into it. A row whose benchmark did not
// run (MariaDB without MYSQL_DSN, the 1M rows without BENCH_SCALE, a package not run) says "not run".
//
// Usage: benchtable [-stack stack.yml] [file …] (standard input when no file). The input is parsed with
// golang.org/x/perf/benchfmt, the Go benchmark format (https://go.dev/design/14313-benchmark-format).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/perf/benchfmt"

	"github.com/stockalert/stockalert/localfaas/stack"
)

func main() {
	stackFile := flag.String("stack", "stack.yml", "the stack whose topics' partitions make run creates (the topics row)")
	flag.Parse()
	if err := run(os.Stdout, *stackFile, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, stackFile string, files []string) error {
	results := Results{}
	if len(files) == 0 {
		if err := results.Read(os.Stdin, "stdin"); err != nil {
			return err
		}
	}
	for _, name := range files {
		f, err := os.Open(name) //nolint:gosec // the files named on the command line
		if err != nil {
			return fmt.Errorf("open benchmark output: %w", err)
		}
		err = results.Read(f, name)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	partitions, err := stackPartitions(stackFile)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, Render(Rows(results, partitions)))
	return err
}

// stackPartitions returns the partitions the stack's functions create their topics with
// (stack.Stack.TopicPartitions: what `make run` gives them on the embedded broker).
func stackPartitions(file string) (int, error) {
	raw, err := os.ReadFile(file) //nolint:gosec // the stack file named on the command line
	if err != nil {
		return 0, fmt.Errorf("read the stack: %w", err)
	}
	st, err := stack.Parse(raw, ".", func(string) (string, bool) { return "", false })
	if err != nil {
		return 0, fmt.Errorf("parse the stack: %w", err)
	}
	return int(st.TopicPartitions()), nil
}

// Results holds benchmark values by package, full name (without the -GOMAXPROCS suffix) and unit.
// Units are benchfmt's tidied ones: ns/op is read as sec/op, custom units stay as written.
type Results map[string]float64

func key(pkg, name, unit string) string { return pkg + " " + name + " " + unit }

// Read adds the results of one `go test -bench` output; a repeated benchmark keeps its last value.
// Errors: the input cannot be read. Lines that are not results are skipped, as the format says.
func (r Results) Read(in io.Reader, name string) error {
	rd := benchfmt.NewReader(in, name)
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			continue // a syntax error or unit metadata: not a result
		}
		base, parts := res.Name.Parts()
		full := string(base)
		for _, p := range parts {
			if len(p) > 0 && p[0] == '/' {
				full += string(p)
			}
		}
		for _, v := range res.Values {
			r[key(res.GetConfig("pkg"), full, v.Unit)] = v.Value
		}
	}
	if err := rd.Err(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}

// Get returns the value of pkg's benchmark name (without "Benchmark" and -GOMAXPROCS) in unit.
func (r Results) Get(pkg, name, unit string) (float64, bool) {
	v, ok := r[key(pkg, name, unit)]
	return v, ok
}
