package deploy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/stockalert/stockalert/localfaas/stack"
)

// HandlerOverlay is the folder of a build context that holds the function: the handler folder's
// entries and the configuration.copy paths (faas-cli's default overlay).
const HandlerOverlay = "function"

// BuildContext lays out the Docker build context of the stack's function name in buildDir/<name> as
// faas-cli does it (github.com/openfaas/go-sdk builder.CreateBuildContext, called by
// `faas-cli build [--shrinkwrap]`):
//
//  1. buildDir/<name> is removed;
//  2. the template folder <stack dir>/template/<lang> is copied to its root;
//  3. the handler folder's entries, except those named build and template, are copied to function/;
//  4. each configuration.copy path, which must lie inside the stack's folder, is copied to
//     function/<path>.
//
// Copies keep file modes and follow symbolic links. Relative paths in the stack are relative to its
// folder (faas-cli resolves them against the working directory: run it from the folder of
// stack.yml). It returns the context's path. Errors: an unknown function, a missing template or
// handler folder, a copy path outside the stack's folder, or a failed copy.
func BuildContext(st *stack.Stack, name, buildDir string) (string, error) {
	fn, ok := st.Functions[name]
	if !ok {
		return "", fmt.Errorf("build context %s: no such function in %s", name, st.Path)
	}
	if fn.Lang == "" || fn.Lang == "dockerfile" {
		return "", fmt.Errorf("build context %s: lang %q: only template languages are laid out", name, fn.Lang)
	}
	contextDir := filepath.Join(buildDir, name)
	if err := os.RemoveAll(contextDir); err != nil {
		return "", fmt.Errorf("build context %s: clear %s: %w", name, contextDir, err)
	}
	overlay := filepath.Join(contextDir, HandlerOverlay)
	if err := os.MkdirAll(overlay, 0o700); err != nil { // faas-cli: 0700 (0777 when CI=true)
		return "", fmt.Errorf("build context %s: %w", name, err)
	}

	template := filepath.Join(st.Dir, "template", fn.Lang)
	if err := copyTree(template, contextDir); err != nil {
		return "", fmt.Errorf("build context %s: template %s: %w", name, fn.Lang, err)
	}

	handler := filepath.Join(st.Dir, fn.Handler)
	entries, err := os.ReadDir(handler)
	if err != nil {
		return "", fmt.Errorf("build context %s: handler: %w", name, err)
	}
	for _, e := range entries {
		if e.Name() == "build" || e.Name() == "template" {
			continue
		}
		if err := copyTree(filepath.Join(handler, e.Name()), filepath.Join(overlay, e.Name())); err != nil {
			return "", fmt.Errorf("build context %s: handler: %w", name, err)
		}
	}

	for _, p := range st.Configuration.Copy {
		rel, err := inScope(st.Dir, p)
		if err != nil {
			return "", fmt.Errorf("build context %s: configuration.copy: %w", name, err)
		}
		if err := copyTree(filepath.Join(st.Dir, rel), filepath.Join(overlay, rel)); err != nil {
			return "", fmt.Errorf("build context %s: configuration.copy %s: %w", name, p, err)
		}
	}
	return contextDir, nil
}

// inScope returns p relative to dir, or an error when p is dir itself or lies outside it (faas-cli's
// rule for configuration.copy).
func inScope(dir, p string) (string, error) {
	if filepath.IsAbs(p) {
		return "", fmt.Errorf("%q: an absolute path is outside the build context", p)
	}
	rel := filepath.Clean(filepath.FromSlash(p))
	switch {
	case rel == ".":
		return "", fmt.Errorf("%q is the entire project", p)
	case rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)):
		return "", fmt.Errorf("%q is outside the build context %s", p, dir)
	}
	return rel, nil
}

// copyTree copies src (a file or a folder, links followed) to dst with the same modes.
func copyTree(src, dst string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return copyFile(src, dst, info.Mode())
	}
	if err := os.MkdirAll(dst, info.Mode().Perm()|0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := copyTree(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) (err error) {
	if !mode.IsRegular() {
		return fmt.Errorf("%s: not a regular file", src)
	}
	// A build context is handed to docker build or faas-cli by another user, as faas-cli's own is:
	// world-readable folders, as in the source tree.
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil { //nolint:gosec // G301: see above
		return err
	}
	// src is a file of this repository named by stack.yml's handler or copy list.
	in, err := os.Open(src) //nolint:gosec // G304: see above
	if err != nil {
		return err
	}
	defer in.Close()                                                              //nolint:errcheck // a read-only file: its Close has nothing to report
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode.Perm()) //nolint:gosec // G304: dst lies in the build output folder
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, out.Close()) }()
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	return out.Chmod(mode.Perm())
}
