#!/usr/bin/env bash
# Runs the OpenFaaS provider certifier (github.com/openfaas/certifier) against localfaas and prints
# one line per test with its result. See localfaas/README.md, "Running the OpenFaaS certifier".
#
#   localfaas/certify.sh [CERTIFIER_DIR] [certifier flags…]
#
# CERTIFIER_DIR is a checkout of the certifier (it is not on the Go module proxy and is never copied
# into this repository); without it the script clones $CERTIFIER_REPO into a temporary folder. The
# certifier's test binary and localfaas are built in a temporary folder; localfaas runs there with
# its own data folder, a generated admin password and a free gateway port, on $CERTIFY_STACK (default:
# a stack file with no functions, since the suite expects an empty namespace). Flags after the
# folder go to the certifier (e.g. -test.run '^Test_Invoke$'). The environment reaches localfaas
# (its settings) and the certifier (idler_enabled=true turns on its scale-to-zero test).
#
# Settings: CERTIFIER_REPO (https://github.com/openfaas/certifier), CERTIFY_STACK (empty stack),
# CERTIFY_OUT (.localfaas/certify: certifier.log, localfaas.log, summary.txt), CERTIFY_READY_TIMEOUT
# (120 s for localfaas to print its status table). Exit status: the certifier's.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
certifier_dir=""
if [[ $# -gt 0 && $1 != -* ]]; then
	certifier_dir=$(cd "$1" && pwd)
	shift
fi
out_dir=${CERTIFY_OUT:-$repo_root/.localfaas/certify}
ready_timeout=${CERTIFY_READY_TIMEOUT:-120}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/localfaas-certify.XXXXXX")
localfaas_pid=""
cleanup() {
	if [[ -n $localfaas_pid ]] && kill -0 "$localfaas_pid" 2>/dev/null; then
		kill -INT "$localfaas_pid" 2>/dev/null || true
		wait "$localfaas_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if [[ -z $certifier_dir ]]; then
	certifier_dir=$work/certifier
	echo "cloning ${CERTIFIER_REPO:-https://github.com/openfaas/certifier} into $certifier_dir"
	git clone --quiet --depth 1 "${CERTIFIER_REPO:-https://github.com/openfaas/certifier}" "$certifier_dir"
fi
if [[ ! -d $certifier_dir/tests ]]; then
	echo "certify: $certifier_dir has no tests/ folder: not a checkout of github.com/openfaas/certifier" >&2
	exit 2
fi

echo "building the certifier ($certifier_dir) and localfaas in $work"
(cd "$certifier_dir" && GOFLAGS=-mod=vendor go test -c -o "$work/certifier.test" ./tests)
(cd "$repo_root" && go build -o "$work/localfaas" ./localfaas/cmd/localfaas)

stack=${CERTIFY_STACK:-}
if [[ -z $stack ]]; then
	stack=$work/empty-stack.yml
	printf 'version: 1.0\nprovider:\n  name: openfaas\nfunctions: {}\n' >"$stack"
fi
stack=$(cd "$(dirname "$stack")" && pwd)/$(basename "$stack")

password=$(head -c 18 /dev/urandom | base64 | tr -d '+/=')
# The stack file's own folder is the working directory: its handler paths are relative to it.
(cd "$(dirname "$stack")" &&
	DATA_DIR=$work/data GATEWAY_PORT=0 AUTOSCALE=${AUTOSCALE:-true} BASIC_AUTH_PASSWORD=$password \
		exec "$work/localfaas" -f "$stack") >"$out_dir/localfaas.log" 2>&1 &
localfaas_pid=$!

gateway=""
for ((i = 0; i < ready_timeout * 10; i++)); do
	gateway=$(sed -n 's/^gateway  *\(http[^ ]*\).*/\1/p' "$out_dir/localfaas.log" | head -1)
	[[ -n $gateway ]] && break
	if ! kill -0 "$localfaas_pid" 2>/dev/null; then
		echo "certify: localfaas stopped before it was ready (stack $stack):" >&2
		tail -20 "$out_dir/localfaas.log" >&2
		[[ -z ${CERTIFY_STACK:-} ]] && echo "certify: CERTIFY_STACK=<a stack file> runs against that stack instead" >&2
		exit 2
	fi
	sleep 0.1
done
if [[ -z $gateway ]]; then
	echo "certify: localfaas printed no gateway line within ${ready_timeout}s; see $out_dir/localfaas.log" >&2
	exit 2
fi
echo "localfaas ready at $gateway (stack $stack)"

# faas-cli's config, which the certifier's -enableAuth reads: basic auth for admin on this gateway.
mkdir -p "$work/openfaas"
printf 'auths:\n- gateway: %s\n  auth: basic\n  token: %s\n' \
	"$gateway" "$(printf 'admin:%s' "$password" | base64 | tr -d '\n')" >"$work/openfaas/config.yml"

echo "running the certifier; full output in $out_dir/certifier.log"
status=0
(cd "$work" && OPENFAAS_CONFIG=$work/openfaas "$work/certifier.test" \
	-test.v -test.count=1 -test.timeout=30m -gateway="$gateway" -enableAuth "$@") \
	>"$out_dir/certifier.log" 2>&1 || status=$?

# One line per test and subtest, indented as go test nests them, then the count of top-level results.
{
	grep -E '^ *--- (PASS|FAIL|SKIP):' "$out_dir/certifier.log" |
		sed -E 's/--- (PASS|FAIL|SKIP): ([^ ]+) \(([^)]*)\)/\1  \2  (\3)/'
	echo
	printf 'top-level: %s passed, %s failed, %s skipped; certifier exit status %s\n' \
		"$(grep -cE '^--- PASS:' "$out_dir/certifier.log" || true)" \
		"$(grep -cE '^--- FAIL:' "$out_dir/certifier.log" || true)" \
		"$(grep -cE '^--- SKIP:' "$out_dir/certifier.log" || true)" "$status"
} | tee "$out_dir/summary.txt"
if grep -qE '^panic:' "$out_dir/certifier.log"; then
	echo "certify: the certifier panicked; see $out_dir/certifier.log" >&2
fi
exit "$status"
