package localfaas

import "net/http"

// namespacesHandler serves GET /system/namespaces: ["openfaas-fn"], which is where the cron-connector
// and the kafka-connector look for functions.
func (p *Provider) namespacesHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []string{Namespace})
	}
}
