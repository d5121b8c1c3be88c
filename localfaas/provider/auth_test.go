package provider

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCredentialsAreGeneratedOnceAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gateway")
	first, err := Credentials(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if first.User != "admin" || len(first.Password) < 32 {
		t.Fatalf("credentials %+v", first)
	}
	info, err := os.Stat(filepath.Join(dir, "basic-auth-password"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v", info, err)
	}
	if user, _ := os.ReadFile(filepath.Join(dir, "basic-auth-user")); string(user) != "admin" {
		t.Fatalf("user file %q", user)
	}
	again, err := Credentials(dir, "")
	if err != nil || again.Password != first.Password {
		t.Fatalf("second run got %+v, %v; want the stored password", again, err)
	}
	given, err := Credentials(dir, "from-env")
	if err != nil || given.Password != "from-env" || given.User != "admin" {
		t.Fatalf("BASIC_AUTH_PASSWORD: %+v %v", given, err)
	}
	if stored, _ := os.ReadFile(filepath.Join(dir, "basic-auth-password")); string(stored) != "from-env" {
		t.Fatal("a given password is not stored for the connectors that read the files")
	}
	fresh := filepath.Join(t.TempDir(), "gateway")
	if _, err := Credentials(fresh, "given"); err != nil {
		t.Fatal(err)
	}
	user, _ := os.ReadFile(filepath.Join(fresh, "basic-auth-user"))
	pass, _ := os.ReadFile(filepath.Join(fresh, "basic-auth-password"))
	if string(user) != "admin" || string(pass) != "given" {
		t.Fatalf("a fresh data folder with a given password has files %q %q", user, pass)
	}
	other, _ := Credentials(filepath.Join(t.TempDir(), "gateway"), "")
	if other.Password == first.Password {
		t.Fatal("two data folders got the same password")
	}
}
