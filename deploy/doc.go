// Package deploy is stockalert on OpenFaaS: beside this package are the files users copy to run it on
// faasd (faasd/) or Kubernetes (kubernetes/), and the scripts behind `make secrets` and
// `make telegram-webhook`. The package itself lays out a function's Docker build context exactly as
// `faas-cli build --shrinkwrap` does (BuildContext, used by `make build-functions`), and its tests keep
// stack.yml, functions/, the template, these files, localfaas and the README in agreement.
package deploy
