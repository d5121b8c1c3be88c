// Package faas is the function runtime, and only that: it runs an http.Handler as an OpenFaaS-style
// function process, giving it the contract of-watchdog in http mode gives a function, in-process, so
// that a function binary is its own HTTP server. It knows no domain package, no JSON request body and
// no edge's error mapping (those live in shared/edge, the JSON helpers in shared/edge/httpjson).
//
// Main (or Run, for tests) reads the Config from the environment in of-watchdog's names and formats
// (ConfigFromEnv), builds the Process a function's Wiring gets (logger, Prometheus registry, Secrets,
// readiness checks, clean-ups) and calls Serve. Serve listens on the port OpenFaaS expects (8080
// unless "port" is set), answers GET /_/health and GET /metrics itself, and wraps the function's
// handler once in the chain built by Middleware: Prometheus request metrics (promhttp), the request
// log, the max_inflight limit (429), the request body limit (413, see BodyTooLargeError), the
// exec_timeout deadline (504) and panic recovery (500). When its context is cancelled Serve turns
// unhealthy, stops accepting connections and drains the requests in flight.
//
// The runtime's own answers (health, 413, 429, 500, 504) are JSON {"error": "...", "field": "..."},
// the shape the edges answer in too.
package faas
