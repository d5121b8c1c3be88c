package faas_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stockalert/stockalert/shared/faas"
)

func TestConfigFromEnv(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		cfg := faas.DefaultConfig()
		if cfg.Port != 8080 || cfg.Bind != "" || cfg.ReadTimeout != 10*time.Second || cfg.WriteTimeout != 12*time.Second ||
			cfg.ExecTimeout != 10*time.Second || cfg.MaxInflight != 0 || cfg.MaxBodyBytes != faas.DefaultMaxBodyBytes ||
			cfg.SecretMountPath != "/var/openfaas/secrets/" || cfg.LogFormat != "json" || cfg.LogLevel != slog.LevelInfo || cfg.LockFile != "" {
			t.Fatalf("defaults = %+v", cfg)
		}
	})
	t.Run("watchdog formats", func(t *testing.T) {
		t.Setenv("port", "9090")
		t.Setenv("bind", "127.0.0.1")
		t.Setenv("read_timeout", "5")
		t.Setenv("write_timeout", "1m30s")
		t.Setenv("exec_timeout", "60s")
		t.Setenv("max_inflight", "4")
		t.Setenv("max_body_bytes", "2048")
		t.Setenv("log_format", "text")
		t.Setenv("log_level", "debug")
		cfg, err := faas.ConfigFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Port != 9090 || cfg.Bind != "127.0.0.1" || cfg.ReadTimeout != 5*time.Second || cfg.WriteTimeout != 90*time.Second ||
			cfg.ExecTimeout != time.Minute || cfg.MaxInflight != 4 || cfg.MaxBodyBytes != 2048 || cfg.LogFormat != "text" || cfg.LogLevel != slog.LevelDebug {
			t.Fatalf("cfg = %+v", cfg)
		}
	})
	for _, tc := range []struct{ key, value, want string }{
		{"exec_timeout", "12s", "exec_timeout"},
		{"read_timeout", "soon", "read_timeout"},
		{"max_body_bytes", "0", "max_body_bytes"},
		{"log_format", "xml", "log_format"},
		{"port", "70000", "port"},
	} {
		t.Run("bad "+tc.key, func(t *testing.T) {
			t.Setenv(tc.key, tc.value)
			if _, err := faas.ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ConfigFromEnv with %s=%s: %v", tc.key, tc.value, err)
			}
		})
	}
}
