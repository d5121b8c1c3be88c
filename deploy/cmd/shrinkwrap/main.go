// Command shrinkwrap lays out the Docker build context of every function of a stack.yml (or of the
// functions named) in <out>/<function>, as `faas-cli build --shrinkwrap` does, without Docker or
// faas-cli, and prints each context's path on a line. `make build-functions` runs the template's
// build script in each.
//
//	shrinkwrap [-f stack.yml] [-o build] [function ...]
//
// stack.yml's ${VAR:-default} are substituted from the environment, as faas-cli does.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stockalert/stockalert/deploy"
	"github.com/stockalert/stockalert/localfaas/stack"
)

func main() {
	stackFile := flag.String("f", "stack.yml", "the stack file")
	out := flag.String("o", "build", "the folder the build contexts are laid out in")
	flag.Parse()
	if err := run(*stackFile, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "shrinkwrap:", err)
		os.Exit(1)
	}
}

func run(stackFile, out string, names []string) error {
	st, err := stack.Load(stackFile, os.LookupEnv)
	if err != nil {
		return err
	}
	for _, w := range st.Warnings {
		fmt.Fprintln(os.Stderr, "shrinkwrap: warning:", st.Path+":", w)
	}
	if len(names) == 0 {
		names = st.FunctionNames()
	}
	out, err = filepath.Abs(out)
	if err != nil {
		return err
	}
	for _, name := range names {
		dir, err := deploy.BuildContext(st, name, out)
		if err != nil {
			return err
		}
		fmt.Println(dir)
	}
	return nil
}
