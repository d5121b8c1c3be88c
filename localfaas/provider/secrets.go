package provider

import (
	"net/http"

	"github.com/openfaas/faas-provider/types"
)

// SecretStore keeps the function secrets. List never returns values; Create fails with ErrExists for a
// secret that exists, Update and Remove with ErrNotFound for one that does not; all fail with
// ErrInvalid for a bad name.
type SecretStore interface {
	List() ([]types.Secret, error)
	Create(s types.Secret) error
	Update(s types.Secret) error
	Remove(name string) error
}

// MakeSecretHandler serves /system/secrets: GET lists the names; POST creates (201, 409 when it
// exists); PUT replaces (200, 404 when missing); DELETE removes (200, 404 when missing). Values are
// never returned.
func MakeSecretHandler(store SecretStore) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if err := CheckNamespace(r.URL.Query().Get("namespace")); err != nil {
				writeError(w, err)
				return
			}
			list, err := store.List()
			if err != nil {
				writeError(w, err)
				return
			}
			writeJSON(w, list)
			return
		}
		var s types.Secret
		if err := decodeJSON(r, &s); err != nil {
			writeError(w, err)
			return
		}
		if err := CheckNamespace(s.Namespace); err != nil {
			writeError(w, err)
			return
		}
		var err error
		status := http.StatusOK
		switch r.Method {
		case http.MethodPost:
			err, status = store.Create(s), http.StatusCreated
		case http.MethodPut:
			err = store.Update(s)
		case http.MethodDelete:
			err = store.Remove(s.Name)
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
