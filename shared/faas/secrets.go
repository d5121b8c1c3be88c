package faas

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrSecretNotSet is wrapped by Secrets.Get when a secret has neither a file nor an environment value.
var ErrSecretNotSet = errors.New("secret not set")

// Secrets reads OpenFaaS secrets: one file per secret, named after it, in the mount directory
// (/var/openfaas/secrets/ in a function container). For local runs without mounted files each lookup
// may name an environment variable to fall back on. Values are never logged; errors name the file and
// the variable, not the value.
type Secrets struct {
	dir       string
	lookupEnv func(string) (string, bool)
}

// NewSecrets reads secrets from dir, falling back on the process environment.
func NewSecrets(dir string) *Secrets {
	return &Secrets{dir: dir, lookupEnv: os.LookupEnv}
}

// Get returns the secret name: the content of the file <dir>/<name> with its trailing line break
// removed or, when there is no such file (or it is empty), the value of the environment variable
// envFallback (skipped when envFallback is ""). It returns an error wrapping ErrSecretNotSet that names
// both places when neither holds a value, and an error naming the file when it exists but cannot be
// read.
func (s *Secrets) Get(name, envFallback string) (string, error) {
	v, ok, err := s.Optional(name, envFallback)
	if err != nil {
		return "", err
	}
	if !ok {
		where := fmt.Sprintf("no file %s", s.path(name))
		if envFallback != "" {
			where += fmt.Sprintf(" and environment variable %s is empty", envFallback)
		}
		return "", fmt.Errorf("secret %q: %w: %s", name, ErrSecretNotSet, where)
	}
	return v, nil
}

// Optional is Get for a secret the function can do without: ok is false, with a nil error, when
// neither the file nor the variable holds a value. The error reports a file that exists but cannot be
// read, or a name that is not a plain file name.
func (s *Secrets) Optional(name, envFallback string) (value string, ok bool, err error) {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return "", false, fmt.Errorf("secret %q: the name must be a plain file name", name)
	}
	b, err := os.ReadFile(s.path(name))
	switch {
	case err == nil:
		if v := strings.TrimRight(string(b), "\r\n"); v != "" {
			return v, true, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, fmt.Errorf("read secret %q: %w", name, err)
	}
	if envFallback != "" {
		if v, set := s.lookupEnv(envFallback); set && v != "" {
			return v, true, nil
		}
	}
	return "", false, nil
}

func (s *Secrets) path(name string) string { return filepath.Join(s.dir, name) }
