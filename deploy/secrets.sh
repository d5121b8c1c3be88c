#!/bin/sh
# Creates, or replaces, the OpenFaaS secrets that stack.yml's functions mount, from environment
# variables, with faas-cli (`make secrets`; `sh deploy/secrets.sh` where make is missing). Each value
# reaches faas-cli on its standard input: never on a command line, in the shell history or on the
# screen.
#
#   MYSQL_DSN                 -> mysql-dsn                 required: user:password@tcp(host:3306)/stockalert
#   TELEGRAM_BOT_TOKEN        -> telegram-bot-token        required: from @BotFather
#   TELEGRAM_WEBHOOK_SECRET   -> telegram-webhook-secret   generated when unset (64 hex digits) and kept
#                                                          in $SECRETS_DIR/telegram-webhook-secret for
#                                                          `make telegram-webhook`; reused when present
#
# faas-cli must be logged in to the gateway (OPENFAAS_URL, default http://127.0.0.1:8080). Optional:
# FAAS_NAMESPACE (the functions' namespace), SECRETS_DIR (default: deploy/.secrets), FAAS_CLI.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
FAAS_CLI=${FAAS_CLI:-faas-cli}
SECRETS_DIR=${SECRETS_DIR:-$here/.secrets}
FAAS_NAMESPACE=${FAAS_NAMESPACE:-}

fail() {
	echo "secrets: $*" >&2
	exit 1
}

[ -n "${MYSQL_DSN:-}" ] || fail 'MYSQL_DSN is not set: user:password@tcp(mysql:3306)/stockalert (see deploy/README.md)'
[ -n "${TELEGRAM_BOT_TOKEN:-}" ] || fail 'TELEGRAM_BOT_TOKEN is not set: the token @BotFather gave your bot'
command -v "$FAAS_CLI" >/dev/null 2>&1 || fail "$FAAS_CLI not found: install faas-cli (https://github.com/openfaas/faas-cli)"

# The webhook secret: given, else kept from an earlier run, else new. Telegram allows 1-256 of
# A-Z a-z 0-9 _ -.
webhook_file=$SECRETS_DIR/telegram-webhook-secret
if [ -n "${TELEGRAM_WEBHOOK_SECRET:-}" ]; then
	webhook_secret=$TELEGRAM_WEBHOOK_SECRET
elif [ -s "$webhook_file" ]; then
	webhook_secret=$(cat "$webhook_file")
	echo "secrets: telegram-webhook-secret: using the one kept in $webhook_file"
else
	webhook_secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
	echo "secrets: telegram-webhook-secret: generated, kept in $webhook_file"
fi
case $webhook_secret in
*[!A-Za-z0-9_-]*) fail 'TELEGRAM_WEBHOOK_SECRET may hold only A-Z a-z 0-9 _ - (Telegram secret_token)' ;;
esac
[ ${#webhook_secret} -le 256 ] || fail 'TELEGRAM_WEBHOOK_SECRET is longer than 256 characters'
(
	umask 077
	mkdir -p "$SECRETS_DIR"
	printf '%s' "$webhook_secret" >"$webhook_file"
)

# faas-cli FLAGS...: with --namespace when FAAS_NAMESPACE is set.
faas() {
	if [ -n "$FAAS_NAMESPACE" ]; then
		"$FAAS_CLI" "$@" --namespace "$FAAS_NAMESPACE"
	else
		"$FAAS_CLI" "$@"
	fi
}

# create NAME VALUE. printf is a shell builtin: the value is on no command line. faas-cli exits 0 even
# when the gateway refuses a secret, hence the check with `secret list` below.
create() {
	printf '%s' "$2" | faas secret create "$1" --replace || fail "faas-cli secret create $1 failed"
}

create mysql-dsn "$MYSQL_DSN"
create telegram-bot-token "$TELEGRAM_BOT_TOKEN"
create telegram-webhook-secret "$webhook_secret"

listed=$(faas secret list) || fail 'faas-cli secret list failed'
for name in mysql-dsn telegram-bot-token telegram-webhook-secret; do
	printf '%s\n' "$listed" | grep -qx "[[:space:]]*$name[[:space:]]*" ||
		fail "$name is missing from faas-cli secret list after its creation: see faas-cli's messages above"
done
echo 'secrets: mysql-dsn, telegram-bot-token and telegram-webhook-secret are in place'
