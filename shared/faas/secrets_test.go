package faas_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stockalert/stockalert/shared/faas"
)

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "telegram-token"), []byte("file-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_TELEGRAM_TOKEN", "env-value")
	t.Setenv("TEST_API_KEY", "env-only")
	t.Setenv("TEST_UNSET", "")
	s := faas.NewSecrets(dir)

	t.Run("file wins over env, trailing newline trimmed", func(t *testing.T) {
		v, err := s.Get("telegram-token", "TEST_TELEGRAM_TOKEN")
		if err != nil || v != "file-value" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	})
	t.Run("env fallback", func(t *testing.T) {
		v, err := s.Get("api-key", "TEST_API_KEY")
		if err != nil || v != "env-only" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	})
	t.Run("empty file falls back on env", func(t *testing.T) {
		v, err := s.Get("empty", "TEST_API_KEY")
		if err != nil || v != "env-only" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	})
	t.Run("neither names both", func(t *testing.T) {
		_, err := s.Get("db-password", "TEST_UNSET")
		if !errors.Is(err, faas.ErrSecretNotSet) {
			t.Fatalf("err = %v, want ErrSecretNotSet", err)
		}
		for _, want := range []string{filepath.Join(dir, "db-password"), "TEST_UNSET"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		}
	})
	t.Run("optional", func(t *testing.T) {
		v, ok, err := s.Optional("db-password", "TEST_UNSET")
		if err != nil || ok || v != "" {
			t.Fatalf("Optional missing = %q %v %v", v, ok, err)
		}
		v, ok, err = s.Optional("telegram-token", "")
		if err != nil || !ok || v != "file-value" {
			t.Fatalf("Optional present = %q %v %v", v, ok, err)
		}
	})
	t.Run("no path tricks", func(t *testing.T) {
		for _, name := range []string{"", "../etc/passwd", "a/b", ".."} {
			if _, err := s.Get(name, ""); err == nil || errors.Is(err, faas.ErrSecretNotSet) {
				t.Errorf("Get(%q) = %v, want a bad-name error", name, err)
			}
		}
	})
	t.Run("unreadable file is an error, not a fallback", func(t *testing.T) {
		if os.Geteuid() == 0 {
			// root reads any file; use a directory in the secret's place instead.
			if err := os.Mkdir(filepath.Join(dir, "is-a-dir"), 0o700); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(filepath.Join(dir, "is-a-dir"), []byte("x"), 0o000); err != nil {
			t.Fatal(err)
		}
		_, err := s.Get("is-a-dir", "TEST_API_KEY")
		if err == nil || errors.Is(err, faas.ErrSecretNotSet) || !strings.Contains(err.Error(), "is-a-dir") {
			t.Fatalf("err = %v, want a read error naming the secret", err)
		}
	})
}
