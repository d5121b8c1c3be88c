package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLinkSecretsMakesTheLinkOnceAndRefusesToReplaceAnythingElse(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "data", "secrets")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "var", "openfaas", "secrets")
	for range 2 { // made, then kept
		if err := linkSecrets(link, dir); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "s1"), []byte("v2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(link, "s1")); err != nil || string(b) != "v2" {
		t.Fatalf("read through the link: %q, %v", b, err)
	}

	other := filepath.Join(root, "other")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := linkSecrets(other, dir); err == nil || !strings.Contains(err.Error(), "is not a link") {
		t.Errorf("a folder at the link: %v", err)
	}
	elsewhere := filepath.Join(root, "elsewhere")
	if err := os.Symlink(other, elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := linkSecrets(elsewhere, dir); err == nil || !strings.Contains(err.Error(), "links to "+other) {
		t.Errorf("a link elsewhere: %v", err)
	}
}
