package provider

import (
	"net/http"

	"github.com/stockalert/stockalert/localfaas/stack"
)

// MakeNamespacesHandler serves GET /system/namespaces: ["openfaas-fn"], which is where the
// cron-connector and the kafka-connector look for functions.
func MakeNamespacesHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, []string{stack.Namespace})
	}
}
