package deploy_test

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stockalert/stockalert/deploy"
	"github.com/stockalert/stockalert/localfaas/stack"
)

// writeTree creates files (path → content; a path ending in * is made executable) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, "*") {
			p, mode = strings.TrimSuffix(p, "*"), 0o755
		}
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// tree lists the files under dir with their modes.
func tree(t *testing.T, dir string) map[string]os.FileMode {
	t.Helper()
	files := map[string]os.FileMode{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = info.Mode().Perm()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

const layoutStack = `version: 1.0
provider: {name: openfaas}
configuration:
  copy: [./go.mod, ./lib]
functions:
  fn: {lang: tmpl, handler: ./functions/fn, image: x/fn}
`

func TestBuildContextLaysOutAsFaasCLI(t *testing.T) {
	project := t.TempDir()
	writeTree(t, project, map[string]string{
		"stack.yml":                 layoutStack,
		"go.mod":                    "module example.com/m\n",
		"lib/lib.go":                "package lib\n",
		"lib/deep/x.txt":            "x",
		"template/tmpl/Dockerfile":  "FROM scratch\n",
		"template/tmpl/build.sh*":   "#!/bin/sh\n",
		"functions/fn/main.go":      "package main\n",
		"functions/fn/sub/data.txt": "d",
		"functions/fn/build/old":    "skipped, as faas-cli skips build/",
		"functions/fn/template/old": "skipped, as faas-cli skips template/",
		"functions/other/main.go":   "package main\n",
		"unrelated/not-copied.go":   "package unrelated\n",
	})
	s, err := stack.Load(filepath.Join(project, "stack.yml"), defaultsOnly)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "build")
	writeTree(t, out, map[string]string{"fn/stale.txt": "removed first"})
	dir, err := deploy.BuildContext(s, "fn", out)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(out, "fn") {
		t.Errorf("context %s", dir)
	}
	want := map[string]os.FileMode{
		"Dockerfile":              0o644,
		"build.sh":                0o755,
		"function/main.go":        0o644,
		"function/sub/data.txt":   0o644,
		"function/go.mod":         0o644,
		"function/lib/lib.go":     0o644,
		"function/lib/deep/x.txt": 0o644,
	}
	got := tree(t, dir)
	if !slices.Equal(sortedKeys(got), sortedKeys(want)) {
		t.Fatalf("context files %v, want %v", sortedKeys(got), sortedKeys(want))
	}
	for p, m := range want {
		if got[p] != m {
			t.Errorf("%s: mode %v, want %v", p, got[p], m)
		}
	}

	if _, err := deploy.BuildContext(s, "nope", out); err == nil {
		t.Error("an unknown function was laid out")
	}
	for _, bad := range []string{"../outside", ".", "/etc"} {
		s.Configuration.Copy = []string{bad}
		if _, err := deploy.BuildContext(s, "fn", out); err == nil || !strings.Contains(err.Error(), "configuration.copy") {
			t.Errorf("copy %q: %v, want an error naming configuration.copy", bad, err)
		}
	}
}

// The repository's own functions lay out with the template and the module at the context's root.
func TestBuildContextOfTheStack(t *testing.T) {
	s := loadStack(t, defaultsOnly)
	out := t.TempDir()
	for _, name := range s.FunctionNames() {
		dir, err := deploy.BuildContext(s, name, out)
		if err != nil {
			t.Fatal(err)
		}
		// The function's composition root lies at its import path: functions/<name>/.
		for _, f := range []string{"Dockerfile", "template.yml", "build.sh", "function/go.mod", "function/go.sum", "function/main.go",
			"function/shared/faas/doc.go", "function/schema/schema.go", "function/functions/" + name + "/main.go"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// A small module in the layout of a build context, to run the template's build script on.
var fnModule = map[string]string{
	"function/go.mod":           "module example.com/fn\n\ngo 1.26\n",
	"function/main.go":          "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/fn/lib\"\n)\n\nfunc main() { fmt.Println(lib.Hello()) }\n",
	"function/lib/lib.go":       "// Package lib says hello.\npackage lib\n\n// Hello says hello.\nfunc Hello() string { return \"hello\" }\n",
	"function/lib/lib_test.go":  "package lib\n\nimport \"testing\"\n\nfunc TestHello(t *testing.T) {\n\tif Hello() != \"hello\" {\n\t\tt.Fatal(Hello())\n\t}\n}\n",
	"function/unused/unused.go": "package unused\n\nfunc broken() { undefined() }\n",
}

// runBuild lays out fnModule with changes (a nil value deletes a file), copies the template's
// build.sh beside function/ and runs it there as the Dockerfile and make build-functions do.
func runBuild(t *testing.T, changes map[string]*string, env ...string) (string, string, error) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{}
	for k, v := range fnModule {
		files[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(files, k)
		} else {
			files[k] = *v
		}
	}
	script, err := os.ReadFile(filepath.Join(root, "template", "golang-stockalert", "build.sh"))
	if err != nil {
		t.Fatal(err)
	}
	files["build.sh*"] = string(script)
	writeTree(t, dir, files)
	cmd := exec.Command("sh", "../build.sh", "../handler")
	cmd.Dir = filepath.Join(dir, "function")
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOTOOLCHAIN=local")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return filepath.Join(dir, "handler"), string(out), err
}

func ptr(s string) *string { return &s }

func TestTemplateBuildScriptBuildsAStaticBinary(t *testing.T) {
	bin, out, err := runBuild(t, nil, "CGO_ENABLED=1")
	if err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	for _, step := range []string{"==> gofmt", "==> vet: example.com/fn/lib example.com/fn", "==> test", "==> build"} {
		if !strings.Contains(out, step) {
			t.Errorf("no %q step in:\n%s", step, out)
		}
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" || settings["vcs"] != "" {
		t.Errorf("build settings %v: want CGO_ENABLED=0, -trimpath, no VCS stamp", settings)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only: nothing to report
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is dynamically linked (%v)", p.Type)
		}
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary is not stripped (-ldflags '-s -w')")
	}
}

func TestTemplateBuildScriptFailsABrokenFunction(t *testing.T) {
	failingTest := "package lib\n\nimport \"testing\"\n\nfunc TestHello(t *testing.T) { t.Fatal(\"broken\") }\n"
	for name, tc := range map[string]struct {
		changes map[string]*string
		want    string
	}{
		"unformatted": {map[string]*string{"function/lib/lib.go": ptr("package lib\nfunc Hello() string { return  \"hello\" }\n")}, "gofmt needed"},
		"vet":         {map[string]*string{"function/main.go": ptr("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Printf(\"%d\\n\", \"x\") }\n")}, "Printf format %d has arg"},
		"compile":     {map[string]*string{"function/main.go": ptr("package main\n\nfunc main() { undefinedThing() }\n")}, "undefined: undefinedThing"},
		"test":        {map[string]*string{"function/lib/lib_test.go": ptr(failingTest)}, "--- FAIL: TestHello"},
		"not main":    {map[string]*string{"function/main.go": ptr("package fn\n")}, "must hold package main, not package fn"},
		"no go.mod":   {map[string]*string{"function/go.mod": nil}, "go.mod is missing"},
		"copy left out": {map[string]*string{"function/lib/lib.go": nil, "function/lib/lib_test.go": nil},
			"a package the function imports is missing"},
	} {
		t.Run(name, func(t *testing.T) {
			bin, out, err := runBuild(t, tc.changes)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Fatalf("want a failure with %q, got %v:\n%s", tc.want, err, out)
			}
			if _, err := os.Stat(bin); err == nil {
				t.Error("a binary was built anyway")
			}
		})
	}
	t.Run("GO_TEST=false skips only the tests", func(t *testing.T) {
		if _, out, err := runBuild(t, map[string]*string{"function/lib/lib_test.go": ptr(failingTest)}, "GO_TEST=false"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if _, out, err := runBuild(t, map[string]*string{"function/lib/lib.go": ptr("package lib\nfunc Hello() string { return  \"hello\" }\n")}, "GO_TEST=false"); err == nil {
			t.Fatalf("gofmt skipped too:\n%s", out)
		}
	})
}
