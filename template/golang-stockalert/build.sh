#!/bin/sh
# The build steps of one stockalert function, run in the module root of its build context
# (build/<name>/function: go.mod, go.sum, the configuration.copy folders and the function's main
# package at the root). The Dockerfile runs it in golang:<GO_VERSION>-alpine; `make build-functions`
# runs it unchanged on the host, in the same layout. POSIX sh.
#
#   sh build.sh OUTPUT
#
# Environment: GO_TEST (true: also run the tests; false: gofmt and vet only), TARGETOS, TARGETARCH
# (default: the host's), GOFLAGS, GOPROXY. The binary is always static: CGO_ENABLED=0.
set -eu

out=${1:?usage: build.sh OUTPUT}
GO_TEST=${GO_TEST:-true}
CGO_ENABLED=0
export CGO_ENABLED

step() { printf '==> %s\n' "$*"; }

# 1. The function's main package sits at the module root, and every package it imports is here.
step "check: package main at the module root, every imported package present"
if [ ! -f go.mod ]; then
	echo 'go.mod is missing: add ./go.mod (and ./go.sum) to configuration.copy in stack.yml' >&2
	exit 1
fi
name=$(go list -f '{{.Name}}' .) || {
	echo 'the handler folder holds no buildable Go package' >&2
	exit 1
}
if [ "$name" != main ]; then
	echo "the handler folder must hold package main, not package $name" >&2
	exit 1
fi
go list -deps . >/dev/null || {
	echo 'a package the function imports is missing: add its top-level folder to configuration.copy in stack.yml' >&2
	exit 1
}

# 2. Formatting.
step "gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo 'gofmt needed (run gofmt -w):' >&2
	echo "$unformatted" >&2
	exit 1
fi

# 3. vet, and the tests unless GO_TEST=false, of the function and of every package of the module it
# depends on (not the whole module).
pkgs=$(go list -deps -f '{{with .Module}}{{if .Main}}{{$.ImportPath}}{{end}}{{end}}' .)
# shellcheck disable=SC2086 # $pkgs is a list of import paths, split on purpose
step "vet:" $pkgs
# shellcheck disable=SC2086
go vet $pkgs
case $GO_TEST in
true)
	step "test"
	# shellcheck disable=SC2086
	go test -count=1 $pkgs
	;;
false) step "test: skipped (GO_TEST=false)" ;;
*)
	echo "GO_TEST must be true or false, not $GO_TEST" >&2
	exit 1
	;;
esac

# 4. A static, stripped binary without VCS stamps (the build context is not a repository in Docker;
# on the host it is inside one, and both must give the same binary).
step "build: $out (${TARGETOS:-$(go env GOOS)}/${TARGETARCH:-$(go env GOARCH)}, CGO_ENABLED=0)"
GOOS=${TARGETOS:-$(go env GOOS)} GOARCH=${TARGETARCH:-$(go env GOARCH)} \
	go build -trimpath -buildvcs=false -ldflags '-s -w' -o "$out" .
