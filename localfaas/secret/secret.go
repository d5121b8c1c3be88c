// Package secret keeps the function secrets of localfaas in one folder, a file per secret (mode
// 0600), written atomically: the folder the function processes read as secret_mount_path, and what the
// provider's /system/secrets endpoint manages.
package secret

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/openfaas/faas-provider/types"

	"github.com/stockalert/stockalert/localfaas/provider"
	"github.com/stockalert/stockalert/localfaas/stack"
)

// Store keeps each secret in a file of its own (mode 0600) in one folder: the folder function
// processes get as secret_mount_path. Its methods are safe for concurrent use; their errors wrap
// provider.ErrInvalid (a bad name), ErrExists or ErrNotFound where one applies.
type Store struct {
	dir string
	mu  sync.Mutex
}

// New returns the store of the folder dir, creating it (mode 0700) if missing.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create secrets folder: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the store's folder.
func (s *Store) Dir() string { return s.dir }

var secretNamePattern = regexp.MustCompile(`^[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$`)

// ValidName returns an error wrapping provider.ErrInvalid unless name can name a secret.
func ValidName(name string) error {
	if !secretNamePattern.MatchString(name) || len(name) > 253 {
		return provider.Invalid("secret name %q must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit", name)
	}
	return nil
}

// List returns the names of the secrets, sorted, without their values.
func (s *Store) List() ([]types.Secret, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	out := []types.Secret{}
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, types.Secret{Name: e.Name(), Namespace: stack.Namespace})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Create stores a new secret; it fails with ErrExists when one of that name exists.
func (s *Store) Create(sec types.Secret) error {
	return s.write(sec, false)
}

// Update replaces a secret's value; it fails with ErrNotFound when there is no such secret.
func (s *Store) Update(sec types.Secret) error {
	return s.write(sec, true)
}

// write stores a secret through a temporary file and a rename, so a function never reads half a value.
func (s *Store) write(sec types.Secret, replace bool) error {
	if err := ValidName(sec.Name); err != nil {
		return err
	}
	value := []byte(sec.Value)
	if sec.Value == "" {
		value = sec.RawValue
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	path := filepath.Join(s.dir, sec.Name)
	_, err := os.Stat(path)
	switch {
	case err == nil && !replace:
		return fmt.Errorf("create secret %s: %w (update it with PUT)", sec.Name, provider.ErrExists)
	case errors.Is(err, fs.ErrNotExist) && replace:
		return fmt.Errorf("update secret %s: %w", sec.Name, provider.ErrNotFound)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("secret %s: %w", sec.Name, err)
	}
	tmp, err := os.CreateTemp(s.dir, ".tmp-"+sec.Name+"-")
	if err != nil {
		return fmt.Errorf("write secret %s: %w", sec.Name, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone after the rename; removed on failure
	if _, err := tmp.Write(value); err != nil {
		return errors.Join(fmt.Errorf("write secret %s: %w", sec.Name, err), tmp.Close())
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write secret %s: %w", sec.Name, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write secret %s: %w", sec.Name, err)
	}
	return nil
}

// Remove deletes a secret; it fails with ErrNotFound when there is no such secret.
func (s *Store) Remove(name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := os.Remove(filepath.Join(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove secret %s: %w", name, provider.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("remove secret %s: %w", name, err)
	}
	return nil
}

// Placeholder creates the secret name with an empty value unless a secret of that name exists (its
// value is then left alone). A program gives its functions this way the secrets their stack mounts but
// they treat as optional: the mount exists, as OpenFaaS requires of every secret a function names, and
// its empty value reads as "not set". Its error says which secret could not be written.
func (s *Store) Placeholder(name string) error {
	err := s.write(types.Secret{Name: name}, false)
	if errors.Is(err, provider.ErrExists) {
		return nil
	}
	return err
}

// Ensure returns the secret name kept in the store, after setting it: to value when given; otherwise,
// when none is kept, to fallback (when fallback is empty too, nothing is kept and "" is returned). A
// program keeps secrets it shares with its functions this way. It writes as the secrets API does; its
// error says which secret could not be read or written.
func (s *Store) Ensure(name, value, fallback string) (string, error) {
	path := filepath.Join(s.dir, name)
	_, statErr := os.Stat(path)
	if value == "" {
		b, err := os.ReadFile(path) //nolint:gosec // G304: the secrets folder and a secret name the provider has validated
		switch {
		case err == nil && strings.TrimSpace(string(b)) != "":
			return strings.TrimSpace(string(b)), nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("read secret %s: %w", name, err)
		}
		value = fallback
	}
	if value == "" {
		return "", nil
	}
	if err := s.write(types.Secret{Name: name, Value: value}, statErr == nil); err != nil {
		return "", err
	}
	return value, nil
}
