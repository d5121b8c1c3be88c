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

// build compiles a function's handler folder with `go build` into <data>/bin/<name>. The binary is
// written beside and renamed into place, so processes still running the previous one are not disturbed.
// Its error quotes the compiler's output.
func (p *Provider) build(ctx context.Context, name, handlerDir string) (string, error) {
	bin := filepath.Join(p.binDir, name)
	tmp := bin + ".new"
	started := time.Now()
	cmd := exec.CommandContext(ctx, p.cfg.GoCommand, "build", "-o", tmp, ".")
	cmd.Dir = handlerDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("build function %s: go build in %s: %w\n%s", name, handlerDir, err, strings.TrimSpace(string(out)))
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("build function %s: %w", name, err)
	}
	p.log.Info("function built", "function", name, "binary", bin, "took", time.Since(started).Round(time.Millisecond))
	return bin, nil
}
