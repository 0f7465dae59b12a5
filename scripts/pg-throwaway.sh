#!/bin/sh
# pg-throwaway.sh — start a throwaway PostgreSQL for tests (see ../shared/TOOLING.md).
#
#   eval "$(scripts/pg-throwaway.sh)"          # start; prints export OMADM_TEST_POSTGRES=... and PG_THROWAWAY_DIR=...
#   eval "$(scripts/pg-throwaway.sh durable)"  # start with production durability (for benchmarks)
#   scripts/pg-throwaway.sh stop DIR            # stop the server started in DIR and remove DIR
#
# Runs as root (the server itself runs as the postgres user through runuser).
# Installs postgresql with apt-get when no server binaries are found.
# Environment: PGPORT (default: first free port from 55432), PGBIN (default: newest /usr/lib/postgresql/*/bin).
# By default durability is off (fsync=off): for tests only, never for data you
# keep. "durable" starts it as a production server runs: fsync=on,
# synchronous_commit=on, full_page_writes=on (every commit waits for its WAL
# flush), so that benchmarks measure what a real deployment pays.
set -eu

find_pgbin() {
	if [ -n "${PGBIN:-}" ]; then echo "$PGBIN"; return; fi
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ "${1:-}" = "stop" ]; then
	D=${2:?usage: $0 stop DIR}
	[ -f "$D/data/PG_VERSION" ] || { echo "$0: $D is not a throwaway server directory" >&2; exit 2; }
	PGBIN=$(find_pgbin)
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$D/data" -m fast -w stop >/dev/null || true
	rm -rf "$D"
	exit 0
fi

DURABILITY="-c fsync=off"
if [ "${1:-}" = "durable" ]; then
	DURABILITY="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
elif [ -n "${1:-}" ]; then
	echo "usage: $0 [durable] | $0 stop DIR" >&2
	exit 2
fi

[ "$(id -u)" = 0 ] || { echo "$0: run as root (uses runuser -u postgres)" >&2; exit 2; }

PGBIN=$(find_pgbin)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
	echo "$0: installing postgresql" >&2
	apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >/dev/null
	PGBIN=$(find_pgbin)
fi
PGPORT_SET=${PGPORT:-}
PGPORT=${PGPORT:-55432}

D=$(mktemp -d /tmp/pgci.XXXXXX)
chown postgres:postgres "$D"
cleanup_on_error() { echo "$0: failed; log: $D/server.log" >&2; }
trap cleanup_on_error EXIT

runuser -u postgres -- "$PGBIN/initdb" -D "$D/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
# With PGPORT unset, take the first free port from 55432 on (other engineers
# and CI jobs may run their own throwaway servers on this host).
tries=1
[ -n "${PGPORT_SET:-}" ] || tries=20
i=0
while :; do
	if runuser -u postgres -- "$PGBIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $D $DURABILITY -c max_connections=200" start >/dev/null; then
		break
	fi
	i=$((i + 1))
	[ "$i" -lt "$tries" ] || exit 1
	PGPORT=$((PGPORT + 1))
done
"$PGBIN/psql" -q "postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable" -c "create database dmtest" >/dev/null

trap - EXIT
echo "export OMADM_TEST_POSTGRES='postgres://postgres@127.0.0.1:$PGPORT/dmtest?sslmode=disable'"
echo "export PG_THROWAWAY_DIR='$D'"
echo "# stop with: $0 stop $D" >&2
