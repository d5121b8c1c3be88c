package localfaas

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/openfaas/faas-provider/types"
)

// secretsHandler serves /system/secrets: GET lists the names; POST creates (201, 409 when it exists);
// PUT replaces (200, 404 when missing); DELETE removes (200, 404 when missing). Values are never
// returned.
func (p *Provider) secretsHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if err := checkNamespace(r.URL.Query().Get("namespace")); err != nil {
				writeError(w, err)
				return
			}
			list, err := p.secrets.list()
			if err != nil {
				writeError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, list)
			return
		}
		var s types.Secret
		if err := decodeJSON(r, &s); err != nil {
			writeError(w, err)
			return
		}
		if err := checkNamespace(s.Namespace); err != nil {
			writeError(w, err)
			return
		}
		var err error
		status := http.StatusOK
		switch r.Method {
		case http.MethodPost:
			err, status = p.secrets.create(s), http.StatusCreated
		case http.MethodPut:
			err = p.secrets.update(s)
		case http.MethodDelete:
			err = p.secrets.remove(s.Name)
		default:
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(status)
	}
}

// secretStore keeps each secret in a file of its own (mode 0600) in one folder: the folder function
// processes get as secret_mount_path.
type secretStore struct {
	dir string
	mu  sync.Mutex
}

func newSecretStore(dir string) (*secretStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("localfaas: create secrets folder: %w", err)
	}
	return &secretStore{dir: dir}, nil
}

var secretNamePattern = regexp.MustCompile(`^[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$`)

func validSecretName(name string) error {
	if !secretNamePattern.MatchString(name) || len(name) > 253 {
		return invalid("secret name %q must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit", name)
	}
	return nil
}

func (s *secretStore) list() ([]types.Secret, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	out := []types.Secret{}
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, types.Secret{Name: e.Name(), Namespace: Namespace})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *secretStore) create(sec types.Secret) error {
	return s.write(sec, false)
}

func (s *secretStore) update(sec types.Secret) error {
	return s.write(sec, true)
}

// write stores a secret through a temporary file and a rename, so a function never reads half a value.
func (s *secretStore) write(sec types.Secret, replace bool) error {
	if err := validSecretName(sec.Name); err != nil {
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
		return fmt.Errorf("create secret %s: %w (update it with PUT)", sec.Name, ErrExists)
	case errors.Is(err, fs.ErrNotExist) && replace:
		return fmt.Errorf("update secret %s: %w", sec.Name, ErrNotFound)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("secret %s: %w", sec.Name, err)
	}
	tmp, err := os.CreateTemp(s.dir, ".tmp-"+sec.Name+"-")
	if err != nil {
		return fmt.Errorf("write secret %s: %w", sec.Name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(value); err != nil {
		tmp.Close()
		return fmt.Errorf("write secret %s: %w", sec.Name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write secret %s: %w", sec.Name, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write secret %s: %w", sec.Name, err)
	}
	return nil
}

func (s *secretStore) remove(name string) error {
	if err := validSecretName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := os.Remove(filepath.Join(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove secret %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("remove secret %s: %w", name, err)
	}
	return nil
}

// EnsureSecret returns the function secret name kept in the secrets folder dir (see SecretsDir), after
// setting it: to value when given; otherwise, when none is kept, to fallback (when fallback is empty
// too, nothing is kept and "" is returned). localfaas keeps the Telegram token and webhook secret this
// way, so that the functions and the forwarder agree on them. It writes as the secrets API does.
func EnsureSecret(dir, name, value, fallback string) (string, error) {
	s, err := newSecretStore(dir)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	_, statErr := os.Stat(path)
	if value == "" {
		b, err := os.ReadFile(path)
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
