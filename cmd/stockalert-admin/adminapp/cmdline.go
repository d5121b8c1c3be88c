package adminapp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/stockalert/stockalert/shared/sqlstore"
)

// cmdline is one run of the command.
type cmdline struct {
	deps Deps
	io   IO
	json bool
	yes  bool
}

// flags returns a flag set for the subcommand name with --json, and --yes when destructive.
func (c *cmdline) flags(name string, destructive bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // Run prints the usage once, with the error
	fs.BoolVar(&c.json, "json", false, "print JSON instead of a table")
	if destructive {
		fs.BoolVar(&c.yes, "yes", false, "do it without asking")
	}
	return fs
}

// parse parses args, flags and positional arguments in any order, and checks the positional count
// is within [minArgs, maxArgs] (maxArgs -1: no bound).
func parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	switch {
	case len(pos) < minArgs:
		return nil, usagef("%s: missing argument", fs.Name())
	case maxArgs >= 0 && len(pos) > maxArgs:
		return nil, usagef("%s: unexpected arguments %q", fs.Name(), pos[maxArgs:])
	}
	return pos, nil
}

// confirm asks the operator to confirm what, unless --yes was given. It refuses, with a message
// naming --yes, when stdin is not a terminal.
func (c *cmdline) confirm(what string) error {
	if c.yes {
		return nil
	}
	if !c.io.StdinIsTerminal {
		return fmt.Errorf("refusing to %s: stdin is not a terminal, so nobody can confirm; add --yes to do it anyway", what)
	}
	_, _ = fmt.Fprintf(c.io.Stderr, "%s? [y/N] ", upperFirst(what))
	line, err := bufio.NewReader(c.io.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the confirmation: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errNotConfirmed
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// withStore opens the store for fn and closes it after.
func (c *cmdline) withStore(ctx context.Context, fn func(*sqlstore.Store) error) (err error) {
	s, err := c.deps.OpenStore(ctx)
	if err != nil {
		return fmt.Errorf("open the store: %w", err)
	}
	defer func() {
		if cerr := s.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close the store: %w", cerr)
		}
	}()
	return fn(s)
}

// output prints v as JSON with --json, otherwise calls table with an aligned writer.
func (c *cmdline) output(v any, table func(w io.Writer)) error {
	if c.json {
		enc := json.NewEncoder(c.io.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
		return nil
	}
	tw := tabwriter.NewWriter(c.io.Stdout, 0, 0, 2, ' ', 0)
	table(tw)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// row writes tab-separated cells and a line break.
func row(w io.Writer, cells ...any) {
	for i, c := range cells {
		if i > 0 {
			_, _ = io.WriteString(w, "\t")
		}
		_, _ = fmt.Fprint(w, c)
	}
	_, _ = io.WriteString(w, "\n")
}
