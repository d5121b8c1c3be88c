package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// program is the localfaas binary running as a user runs it, for the tests of the whole program.
type program struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	exited         chan error
	port           int
	gateway, data  string
}

// startProgram builds localfaas and runs it on stackFile with a fresh data folder, a free gateway port
// and env added to the test's environment. It kills the program, if still running, when the test ends,
// and prints its output if the test failed.
func startProgram(t *testing.T, stackFile string, env ...string) *program {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "localfaas")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	p := &program{t: t, exited: make(chan error, 1), port: freePort(t), data: filepath.Join(t.TempDir(), "data")}
	p.gateway = "http://127.0.0.1:" + strconv.Itoa(p.port)
	p.cmd = exec.Command(bin, "-f", stackFile)
	p.cmd.Env = append(append(os.Environ(), "GATEWAY_PORT="+strconv.Itoa(p.port), "DATA_DIR="+p.data,
		"BASIC_AUTH_PASSWORD=", "STOP_GRACE=5s"), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", p.stdout.String(), p.stderr.String())
		}
	})
	return p
}

// waitFor waits for cond, failing the test if the program exits first or within passes.
func (p *program) waitFor(within time.Duration, what string, cond func() bool) {
	p.t.Helper()
	waitFor(p.t, within, what, p.exited, cond)
}

// waitReady waits for the status table.
func (p *program) waitReady(within time.Duration) {
	p.t.Helper()
	p.waitFor(within, "the status table", func() bool { return strings.Contains(p.stdout.String(), "localfaas ready in") })
}

// password is the generated admin password.
func (p *program) password() string {
	p.t.Helper()
	b, err := os.ReadFile(filepath.Join(p.data, "gateway", "basic-auth-password"))
	if err != nil {
		p.t.Fatal(err)
	}
	return string(b)
}

// interrupt sends Ctrl-C and waits up to a minute for the program to exit, failing the test unless it
// exits with status 0.
func (p *program) interrupt() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		p.t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			p.t.Fatalf("localfaas exited with %v", err)
		}
	case <-time.After(time.Minute):
		p.t.Fatal("localfaas did not stop within a minute of Ctrl-C")
	}
}
