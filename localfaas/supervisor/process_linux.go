package supervisor

import (
	"os"
	"os/exec"
	"syscall"
)

// configureProcess puts a function process in its own process group, so that a Ctrl-C in the terminal
// reaches only localfaas, which stops the functions in order; and has the kernel send it SIGTERM should
// localfaas die without stopping it.
func configureProcess(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// terminate asks a process to exit.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
