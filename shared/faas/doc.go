// Package faas runs an http.Handler as an OpenFaaS-style function process: the contract that
// of-watchdog in http mode gives a function, implemented in-process so that a function binary is its
// own HTTP server.
//
// Serve listens on the port OpenFaaS expects (8080 unless "port" is set), answers GET /_/health and
// GET /metrics itself, and wraps the function's handler once in the middleware chain built by
// Middleware: request logging, Prometheus metrics, the max_inflight limit (429), the request body limit
// (413), the exec_timeout deadline (504) and panic recovery (500). Configuration comes from the
// environment in of-watchdog's names and formats (ConfigFromEnv). When its context is cancelled Serve
// turns unhealthy, stops accepting connections and drains the requests in flight.
//
// Secrets reads OpenFaaS secrets from their mounted files with an environment fallback for local runs.
// The runtime knows nothing of the domain: the edges' JSON bodies and error mapping live in
// shared/edge/httpjson.
package faas
