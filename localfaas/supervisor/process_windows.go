package supervisor

import (
	"os"
	"os/exec"
)

// configureProcess leaves the process as it is: Windows has no process groups of this kind.
func configureProcess(*exec.Cmd) {}

// terminate kills the process: Windows has no SIGTERM.
func terminate(p *os.Process) error { return p.Kill() }
