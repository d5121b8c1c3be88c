package secret

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEnsureSecret(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "secrets")
	store, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := store.Ensure("telegram-bot-token", "", ""); err != nil || v != "" {
		t.Fatalf("nothing given, nothing kept: %q %v", v, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "telegram-bot-token")); err == nil {
		t.Fatal("an empty secret was written")
	}
	v, err := store.Ensure("telegram-webhook-secret", "", "generated")
	if err != nil || v != "generated" {
		t.Fatalf("fallback: %q %v", v, err)
	}
	if v, _ := store.Ensure("telegram-webhook-secret", "", "another"); v != "generated" {
		t.Fatalf("the kept secret must win over a new fallback, got %q", v)
	}
	if v, _ := store.Ensure("telegram-webhook-secret", "given", "another"); v != "given" {
		t.Fatalf("a given value replaces the kept one, got %q", v)
	}
	info, err := os.Stat(filepath.Join(dir, "telegram-webhook-secret"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", info, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "telegram-webhook-secret")); string(b) != "given" {
		t.Fatalf("stored %q", b)
	}
	if _, err := store.Ensure("../escape", "x", ""); err == nil {
		t.Fatal("a name that leaves the folder was accepted")
	}
}

func TestPlaceholderSecret(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "secrets")
	store, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Placeholder("mysql-dsn"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "mysql-dsn")); err != nil || len(b) != 0 {
		t.Fatalf("placeholder: %q %v", b, err)
	}
	// An empty placeholder is "none kept": Ensure fills it with the fallback.
	if v, err := store.Ensure("mysql-dsn", "", "dsn"); err != nil || v != "dsn" {
		t.Fatalf("ensure over a placeholder: %q %v", v, err)
	}
	// A secret with a value is left alone.
	if err := store.Placeholder("mysql-dsn"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "mysql-dsn")); string(b) != "dsn" {
		t.Fatalf("the placeholder replaced a value: %q", b)
	}
	if err := store.Placeholder("../escape"); err == nil {
		t.Fatal("a name that leaves the folder was accepted")
	}
}
