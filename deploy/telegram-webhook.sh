#!/bin/sh
# Points the Telegram bot's webhook at the telegram-bot function (`make telegram-webhook`): calls the
# Bot API's setWebhook with url=$PUBLIC_GATEWAY_URL/function/telegram-bot, the webhook secret as
# secret_token (Telegram then sends it in X-Telegram-Bot-Api-Secret-Token, which the function checks)
# and allowed_updates=["message","callback_query"] (commands, and presses of the buttons under the bot's
# messages). `make telegram-webhook` then sets the bot's "/" menus (stockalert-admin telegram menu). The token and the secret are passed to curl through its standard
# input and a file, never on a command line, and are never printed.
#
#   PUBLIC_GATEWAY_URL       required: the gateway's public https:// address (Telegram calls it;
#                            ports 443, 80, 88 or 8443)
#   TELEGRAM_BOT_TOKEN       required
#   TELEGRAM_WEBHOOK_SECRET  default: the one `make secrets` kept in $SECRETS_DIR/telegram-webhook-secret
#   TELEGRAM_API_URL         default https://api.telegram.org
set -eu

here=$(cd "$(dirname "$0")" && pwd)
SECRETS_DIR=${SECRETS_DIR:-$here/.secrets}
TELEGRAM_API_URL=${TELEGRAM_API_URL:-https://api.telegram.org}

fail() {
	echo "telegram-webhook: $*" >&2
	exit 1
}

[ -n "${PUBLIC_GATEWAY_URL:-}" ] || fail 'PUBLIC_GATEWAY_URL is not set: the https:// address Telegram reaches the gateway at'
case $PUBLIC_GATEWAY_URL in
https://*) ;;
*) fail "PUBLIC_GATEWAY_URL must start with https:// (Telegram calls webhooks over HTTPS only), not $PUBLIC_GATEWAY_URL" ;;
esac
[ -n "${TELEGRAM_BOT_TOKEN:-}" ] || fail 'TELEGRAM_BOT_TOKEN is not set'
command -v curl >/dev/null 2>&1 || fail 'curl not found'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
secret_file=$SECRETS_DIR/telegram-webhook-secret
if [ -n "${TELEGRAM_WEBHOOK_SECRET:-}" ]; then
	secret_file=$tmp/secret
	(umask 077 && printf '%s' "$TELEGRAM_WEBHOOK_SECRET" >"$secret_file")
elif [ ! -s "$secret_file" ]; then
	fail "no webhook secret: set TELEGRAM_WEBHOOK_SECRET, or run make secrets first (it keeps one in $secret_file)"
fi

hook=${PUBLIC_GATEWAY_URL%/}/function/telegram-bot
# curl reads the method's URL, which holds the token, from its config on stdin.
status=0
printf 'url = "%s/bot%s/setWebhook"\n' "${TELEGRAM_API_URL%/}" "$TELEGRAM_BOT_TOKEN" |
	curl --config - --silent --show-error --max-time 30 --output "$tmp/answer" --write-out '%{http_code}' \
		--data-urlencode "url=$hook" \
		--data-urlencode "secret_token@$secret_file" \
		--data-urlencode 'allowed_updates=["message","callback_query"]' >"$tmp/status" || status=$?
[ "$status" -eq 0 ] || fail "calling setWebhook failed (curl exit status $status)"
code=$(cat "$tmp/status")
answer=$(cat "$tmp/answer")
case $answer in
*'"ok":true'*) echo "telegram-webhook: Telegram now sends the bot's messages to $hook ($answer)" ;;
*) fail "setWebhook answered $code: $answer" ;;
esac
