package provider

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

// Credentials returns the gateway's basic-auth credentials: user admin and password when password is
// not empty; otherwise the password stored in dir, or a new random one. Either way it writes them to
// dir (basic-auth-user, basic-auth-password, mode 0600), where the in-process kafka-connector and
// OpenFaaS components read them, so the generated password stays the same from run to run and a given
// one replaces it. Its error says which file could not be read or written.
func Credentials(dir, password string) (*auth.BasicAuthCredentials, error) {
	path := filepath.Join(dir, "basic-auth-password")
	if password == "" {
		stored, err := os.ReadFile(path) //nolint:gosec // G304: the operator's credentials folder and a fixed file name
		switch {
		case err == nil && strings.TrimSpace(string(stored)) != "":
			password = strings.TrimSpace(string(stored))
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("read gateway password: %w", err)
		default:
			b := make([]byte, 24)
			if _, err := rand.Read(b); err != nil {
				return nil, fmt.Errorf("generate gateway password: %w", err)
			}
			password = base64.RawURLEncoding.EncodeToString(b)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store gateway credentials: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "basic-auth-user"), []byte(AdminUser), 0o600); err != nil {
		return nil, fmt.Errorf("store gateway user: %w", err)
	}
	if err := os.WriteFile(path, []byte(password), 0o600); err != nil { //nolint:gosec // G703: path is the operator's credentials folder joined with a fixed file name
		return nil, fmt.Errorf("store gateway password: %w", err)
	}
	return &auth.BasicAuthCredentials{User: AdminUser, Password: password}, nil
}
