package localfaas

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/openfaas/faas-provider/auth"
)

// AdminUser is the gateway's basic-auth user, as in OpenFaaS.
const AdminUser = "admin"

// CredentialsDir is where a data folder keeps the gateway's own credentials, in the files
// basic-auth-user and basic-auth-password that OpenFaaS components read (apart from the function
// secrets, so no function can read or delete them).
func CredentialsDir(dataDir string) string { return filepath.Join(dataDir, "gateway") }

// Credentials returns the gateway's basic-auth credentials: user admin and password when password is
// not empty; otherwise the password stored in dir, or a new random one that it stores there (mode 0600)
// so that it stays the same from run to run.
func Credentials(dir, password string) (*auth.BasicAuthCredentials, error) {
	if password != "" {
		return &auth.BasicAuthCredentials{User: AdminUser, Password: password}, nil
	}
	path := filepath.Join(dir, "basic-auth-password")
	stored, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(stored)) != "" {
		return &auth.BasicAuthCredentials{User: AdminUser, Password: strings.TrimSpace(string(stored))}, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read gateway password: %w", err)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generate gateway password: %w", err)
	}
	password = base64.RawURLEncoding.EncodeToString(b)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store gateway password: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "basic-auth-user"), []byte(AdminUser), 0o600); err != nil {
		return nil, fmt.Errorf("store gateway user: %w", err)
	}
	if err := os.WriteFile(path, []byte(password), 0o600); err != nil {
		return nil, fmt.Errorf("store gateway password: %w", err)
	}
	return &auth.BasicAuthCredentials{User: AdminUser, Password: password}, nil
}
