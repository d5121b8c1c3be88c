package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/internal/logcapture"
)

// program is the localfaas binary running as a user runs it, for the tests of the whole program.
type program struct {
	t              testing.TB
	cmd            *exec.Cmd
	stdout, stderr logcapture.Buffer
	exited         chan error
	port           int
	gateway, data  string
}

// runProgramEnv, set in the environment of this test binary, makes it the localfaas program: the tests
// run the program as a user does without building it a second time.
const runProgramEnv = "LOCALFAAS_TEST_RUN_PROGRAM"

func TestMain(m *testing.M) {
	if os.Getenv(runProgramEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startProgram runs localfaas (this test binary as the program) on stackFile with a fresh data folder, a free gateway port
// and env added to the test's environment. It kills the program, if still running, when the test ends,
// and prints its output if the test failed.
func startProgram(t testing.TB, stackFile string, env ...string) *program {
	t.Helper()
	p := &program{t: t, exited: make(chan error, 1), port: freePort(t), data: filepath.Join(t.TempDir(), "data")}
	p.gateway = "http://127.0.0.1:" + strconv.Itoa(p.port)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(self, "-f", stackFile) //nolint:gosec // this test binary, as the program
	p.cmd.Env = append(append(os.Environ(), runProgramEnv+"=1", "GATEWAY_PORT="+strconv.Itoa(p.port), "DATA_DIR="+p.data,
		"BASIC_AUTH_PASSWORD=", "STOP_GRACE=5s"), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill() // it may have exited since: Wait says how
			if err := <-p.exited; t.Failed() {
				t.Logf("localfaas, killed at the end of the test: %v", err)
			}
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

// waitReady waits for the whole status table (its last line).
func (p *program) waitReady(within time.Duration) {
	p.t.Helper()
	p.waitFor(within, "the status table", func() bool { return strings.Contains(p.stdout.String(), summaryEnd) })
}

// cronRuns counts the finished cron runs of a function the program has logged.
func (p *program) cronRuns(function string) int {
	return strings.Count(p.stderr.String(), `msg="cron run" function=`+function+" ")
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
