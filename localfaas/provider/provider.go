// Package provider is localfaas's OpenFaaS provider API: one file per faas-provider endpoint, each a
// handler factory (MakeDeployHandler, MakeProxyHandler, ...) over the small interface it needs, as in
// faasd. It keeps no state of its own: the functions are run by whatever implements those interfaces
// (the supervisor package in the program), the secrets kept by a SecretStore. Implementations wrap the
// errors declared here (ErrNotFound, ErrExists, ErrInvalid, ErrUnavailable, ErrStopped), which the
// endpoints turn into HTTP statuses. It knows nothing of any particular application.
package provider

import (
	"net/http"

	"github.com/openfaas/faas-provider/auth"
	"github.com/openfaas/faas-provider/types"
)

// Functions is everything the function endpoints need, as one value: the supervisor in the program.
type Functions interface {
	Lister
	Describer
	Deployer
	Updater
	Deleter
	Scaler
	Invoker
	LogSource
	HealthChecker
}

// Options are the gateway's settings beyond faas-provider's FaaSConfig. The zero value is an open
// gateway (no basic auth) answering as an OpenFaaS gateway, with no body limit of its own.
type Options struct {
	// Creds, when not nil, puts every /system/ endpoint (including /system/namespaces, which bootstrap
	// leaves open) behind basic auth; leave FaaSConfig.EnableBasicAuth off.
	Creds *auth.BasicAuthCredentials
	// Role is what localfaas is to its caller: RoleGateway (faas-cli talks to it) or RoleProvider (a
	// real OpenFaaS gateway sits in front). It decides the shape of /system/info.
	Role Role
	// DefaultMaxBodyBytes is the request body limit of a function whose environment sets no
	// max_body_bytes (0: none). See MakeProxyHandler.
	DefaultMaxBodyBytes int64
	// Observer, when not nil, is told of every invocation (the autoscaler counts them).
	Observer InvocationObserver
	// Waker, when not nil, wakes a function scaled to zero on its first call, which waits for it
	// instead of being answered 503.
	Waker Waker
}

// Handlers returns the endpoints for NewRouter (or bootstrap.Serve) over fns and secrets, with opts.
// cfg gives the proxy its timeout (ReadTimeout) and the log stream its limit (WriteTimeout); m, when
// not nil, counts the invocations.
func Handlers(fns Functions, secrets SecretStore, m *Metrics, opts Options, cfg types.FaaSConfig) *types.FaaSHandlers {
	creds := opts.Creds
	protect := func(h http.HandlerFunc) http.HandlerFunc {
		if creds == nil {
			return h
		}
		return auth.DecorateWithBasicAuth(h, creds)
	}
	return &types.FaaSHandlers{
		ListNamespaces: protect(MakeNamespacesHandler()),
		FunctionProxy: MakeProxyHandler(fns, m, cfg, ProxyOptions{
			DefaultMaxBodyBytes: opts.DefaultMaxBodyBytes, Observer: opts.Observer, Waker: opts.Waker,
		}),
		FunctionLister: protect(MakeListHandler(fns)),
		DeployFunction: protect(MakeDeployHandler(fns)),
		UpdateFunction: protect(MakeUpdateHandler(fns)),
		DeleteFunction: protect(MakeDeleteHandler(fns)),
		FunctionStatus: protect(MakeStatusHandler(fns)),
		ScaleFunction:  protect(MakeScaleHandler(fns)),
		Secrets:        protect(MakeSecretHandler(secrets)),
		Logs:           protect(MakeLogsHandler(fns, cfg.WriteTimeout)),
		Info:           protect(MakeInfoHandler(opts.Role)),
		Health:         MakeHealthHandler(fns),
	}
}
