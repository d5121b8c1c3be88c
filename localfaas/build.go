package localfaas

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// build compiles a function's handler folder with `go build` into <data>/bin/<name>. With running
// processes of the function (an update), the binary is written beside and renamed into place, so they
// are not disturbed; otherwise (a deploy) it is built in place, which lets the go command skip the link
// when the binary is up to date — a restart of localfaas on a warm cache builds nothing. Its error
// quotes the compiler's output.
func (p *Provider) build(ctx context.Context, name, handlerDir string, running bool) (string, error) {
	bin := filepath.Join(p.binDir, name)
	out := bin
	if running {
		out = bin + ".new"
	}
	started := time.Now()
	cmd := exec.CommandContext(ctx, p.cfg.GoCommand, "build", "-o", out, ".")
	cmd.Dir = handlerDir
	msg, err := cmd.CombinedOutput()
	if err != nil {
		if running {
			_ = os.Remove(out)
		}
		return "", fmt.Errorf("build function %s: go build in %s: %w\n%s", name, handlerDir, err, strings.TrimSpace(string(msg)))
	}
	if running {
		if err := os.Rename(out, bin); err != nil {
			return "", fmt.Errorf("build function %s: %w", name, err)
		}
	}
	p.log.Info("function built", "function", name, "binary", bin, "took", time.Since(started).Round(time.Millisecond))
	return bin, nil
}
