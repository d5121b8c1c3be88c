package faas_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stockalert/stockalert/shared/faas"
)

// RunEnv gives the wiring the environment it was given — its Config, Process.Env and Parse, and the
// secrets' fallbacks — and never the test process's.
func TestRunEnvReadsOnlyTheGivenEnvironment(t *testing.T) {
	t.Setenv("GREETING", "from the process")
	t.Setenv("TOKEN", "from the process")
	t.Setenv("ONLY_IN_THE_PROCESS", "from the process")
	environ := map[string]string{
		"port": "0", "bind": "127.0.0.1", "secret_mount_path": t.TempDir(), "log_level": "error",
		"GREETING": "from RunEnv", "TOKEN": "secret from RunEnv", "exec_timeout": "3s",
	}
	var cfg struct {
		Greeting string `env:"GREETING"`
		Missing  string `env:"MISSING" envDefault:"default"`
	}
	stop := errors.New("wired: stop here")
	var p *faas.Process
	err := faas.RunEnv(context.Background(), "fn", func(_ context.Context, proc *faas.Process) (http.Handler, error) {
		p = proc
		if err := proc.Parse(&cfg); err != nil {
			return nil, err
		}
		return nil, stop
	}, environ)
	if !errors.Is(err, stop) {
		t.Fatalf("RunEnv = %v, want the wiring's error", err)
	}
	if cfg.Greeting != "from RunEnv" || cfg.Missing != "default" {
		t.Errorf("Parse read %+v", cfg)
	}
	if p.Config.ExecTimeout.String() != "3s" || p.Config.Bind != "127.0.0.1" {
		t.Errorf("Config %+v", p.Config)
	}
	if v, ok, err := p.Secrets.Optional("token", "TOKEN"); err != nil || !ok || v != "secret from RunEnv" {
		t.Errorf("secret fallback = %q %v %v", v, ok, err)
	}
	if v, ok, err := p.Secrets.Optional("other", "ONLY_IN_THE_PROCESS"); err != nil || ok {
		t.Errorf("a secret fell back on the process environment: %q %v %v", v, ok, err)
	}
}

func TestProcessParseNamesTheVariable(t *testing.T) {
	var cfg struct {
		N int `env:"N"`
	}
	p := &faas.Process{Name: "fn", Env: map[string]string{"N": "many"}}
	err := p.Parse(&cfg)
	if err == nil || !strings.Contains(err.Error(), "invalid N") {
		t.Fatalf("Parse = %v, want an error naming N", err)
	}
}
