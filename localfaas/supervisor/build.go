package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Builder compiles a function's handler folder into the executable out. Its error quotes the
// compiler's output.
type Builder interface {
	Build(ctx context.Context, handlerDir, out string) error
}

// GoBuilder builds with `go build -o out .` in the handler folder.
type GoBuilder struct {
	// Command is the go command ("go" when empty).
	Command string
}

// Build runs go build. Its error quotes the compiler's output.
func (b GoBuilder) Build(ctx context.Context, handlerDir, out string) error {
	command := b.Command
	if command == "" {
		command = "go"
	}
	cmd := exec.CommandContext(ctx, command, "build", "-o", out, ".") //nolint:gosec // the go command of the configuration, on the stack's handler folder
	cmd.Dir = handlerDir
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %w\n%s", handlerDir, err, strings.TrimSpace(string(msg)))
	}
	return nil
}

// build compiles a function's handler folder into <bin>/<name>. With running processes of the function
// (an update), the binary is written beside and renamed into place, so they are not disturbed;
// otherwise (a deploy) it is built in place, which lets the go command skip the link when the binary is
// up to date — a restart of localfaas on a warm cache builds nothing. Its error names the function and
// quotes the compiler's output.
func (s *Supervisor) build(ctx context.Context, name, handlerDir string, running bool) (string, error) {
	bin := filepath.Join(s.cfg.BinDir, name)
	out := bin
	if running {
		out = bin + ".new"
	}
	started := time.Now()
	if err := s.cfg.Builder.Build(ctx, handlerDir, out); err != nil {
		if running {
			if rerr := os.Remove(out); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = errors.Join(err, rerr)
			}
		}
		return "", fmt.Errorf("build function %s: %w", name, err)
	}
	if running {
		if err := os.Rename(out, bin); err != nil {
			return "", fmt.Errorf("build function %s: %w", name, err)
		}
	}
	s.log.Info("function built", "function", name, "binary", bin, "took", time.Since(started).Round(time.Millisecond))
	return bin, nil
}
