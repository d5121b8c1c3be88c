package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/stockalert/stockalert/localfaas/stack"
)

// root is the repository root, seen from this package's folder (go test runs tests there).
const root = ".."

// defaultsOnly is the environment of a user who sets nothing: every ${VAR:-default} takes its default.
func defaultsOnly(string) (string, bool) { return "", false }

// envOf returns a lookup over vars only.
func envOf(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

// loadStack loads the repository's stack.yml as faas-cli would with the given environment.
func loadStack(t *testing.T, lookup func(string) (string, bool)) *stack.Stack {
	t.Helper()
	s, err := stack.Load(filepath.Join(root, "stack.yml"), lookup)
	if err != nil {
		t.Fatalf("stack.yml: %v", err)
	}
	return s
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// yamlDocs decodes every document of a YAML file into maps, failing on a syntax error or a
// duplicated key.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(readFile(t, path))))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s: no YAML document", path)
	}
	return docs
}

// envTagPattern finds the variables a Go struct reads with caarlos0/env: `env:"NAME..."`.
var envTagPattern = regexp.MustCompile("env:\"([A-Za-z_][A-Za-z0-9_]*)")

// envNamesRead returns the environment variable names the non-test Go files under dirs read through
// env struct tags.
func envNamesRead(t *testing.T, dirs ...string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, dir := range dirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range envTagPattern.FindAllSubmatch(b, -1) {
				names[string(m[1])] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// envList turns a Compose environment list (NAME=value) into a map.
func envList(t *testing.T, v any) map[string]string {
	t.Helper()
	items, ok := v.([]any)
	if !ok {
		t.Fatalf("environment is not a list of NAME=value: %T", v)
	}
	env := map[string]string{}
	for _, it := range items {
		s, _ := it.(string)
		k, val, ok := strings.Cut(s, "=")
		if !ok {
			t.Fatalf("environment item %q is not NAME=value", s)
		}
		env[k] = val
	}
	return env
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// goCmd runs the go tool in dir and returns its combined output.
func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
