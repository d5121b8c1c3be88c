#!/bin/sh
# Adds stockalert's services (deploy/faasd/docker-compose.yaml: kafka, mysql, kafka-connector,
# cron-connector) to faasd's /var/lib/faasd/docker-compose.yaml, creates the MariaDB password in
# /var/lib/faasd/secrets/mysql-password, and restarts faasd. Run it as root on the faasd VM, from a
# clone of the repository. Running it again changes nothing that is already in place.
#
#   IMAGE_PREFIX, IMAGE_TAG   the kafka-connector image: $IMAGE_PREFIX/kafka-connector:$IMAGE_TAG
#                             (defaults stockalert, 0.1.0, as in stack.yml)
#   FAASD_DIR                 default /var/lib/faasd
#   FAASD_RESTART             default true: systemctl restart faasd afterwards
set -eu

here=$(cd "$(dirname "$0")" && pwd)
FAASD_DIR=${FAASD_DIR:-/var/lib/faasd}
IMAGE_PREFIX=${IMAGE_PREFIX:-stockalert}
IMAGE_TAG=${IMAGE_TAG:-0.1.0}
FAASD_RESTART=${FAASD_RESTART:-true}
compose=$FAASD_DIR/docker-compose.yaml
ours=$here/docker-compose.yaml

fail() {
	echo "install: $*" >&2
	exit 1
}

[ -f "$compose" ] || fail "$compose not found: install faasd first (https://github.com/openfaas/faasd)"
case $IMAGE_PREFIX$IMAGE_TAG in
*[!A-Za-z0-9._:/-]*) fail "IMAGE_PREFIX and IMAGE_TAG may hold only A-Z a-z 0-9 . _ : / -" ;;
esac

# 1. The services, appended under faasd's services: (which must be the file's last top-level key).
if grep -q '^  kafka-connector:' "$compose"; then
	echo "install: $compose already has the stockalert services; left as is"
else
	last=$(grep -E '^[^[:space:]#]' "$compose" | tail -n 1)
	[ "$last" = "services:" ] ||
		fail "the last top-level key of $compose is not services: ($last); add the services of $ours by hand"
	backup=$compose.$(date +%Y%m%d%H%M%S).bak
	cp -p "$compose" "$backup"
	{
		echo
		echo "  # stockalert: from deploy/faasd/docker-compose.yaml"
		sed -e '1,/^services:/d' \
			-e "s|image: stockalert/kafka-connector:0.1.0|image: $IMAGE_PREFIX/kafka-connector:$IMAGE_TAG|" "$ours"
	} >>"$compose"
	echo "install: added kafka, mysql, kafka-connector and cron-connector to $compose (backup: $backup)"
fi

# 2. The MariaDB password of user stockalert (faasd mounts it into the mysql service).
secret=$FAASD_DIR/secrets/mysql-password
if [ -s "$secret" ]; then
	echo "install: $secret exists; kept"
else
	(
		umask 077
		mkdir -p "$FAASD_DIR/secrets"
		od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$secret"
	)
	echo "install: wrote a new MariaDB password to $secret"
fi

# 3. faasd starts the new services.
if [ "$FAASD_RESTART" = true ]; then
	systemctl restart faasd
	echo "install: faasd restarted; follow with: journalctl -f -t openfaas:kafka -t openfaas:mysql -t openfaas:kafka-connector"
fi

cat <<'NEXT'
install: next, the function secrets (MYSQL_DSN is built from the password without showing it):
  export MYSQL_DSN="stockalert:$(sudo cat /var/lib/faasd/secrets/mysql-password)@tcp(mysql:3306)/stockalert"
  read -rsp 'Telegram bot token: ' TELEGRAM_BOT_TOKEN && export TELEGRAM_BOT_TOKEN   # bash
  make secrets                    # or: sh deploy/secrets.sh
NEXT
