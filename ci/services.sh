#!/usr/bin/env bash
# Start a throw-away PostgreSQL and Redis on 127.0.0.1 for the test suite (issue 7), installing
# them from Debian's packages when missing. Prints the environment to use them:
#     eval "$(ci/services.sh)"     # sets GOVCRAWLER_TEST_POSTGRES_URL, GOVCRAWLER_TEST_REDIS_URL
# Data lives under ${GOVCRAWLER_SERVICES_DIR:-/tmp/govcrawler-services}; `ci/services.sh stop`
# stops both. Needs root (apt-get, and PostgreSQL runs as the `postgres` user).
set -euo pipefail
DIR=${GOVCRAWLER_SERVICES_DIR:-/tmp/govcrawler-services}
PG_PORT=${GOVCRAWLER_PG_PORT:-55432}
REDIS_PORT=${GOVCRAWLER_REDIS_PORT:-56379}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

if [[ "${1:-start}" == stop ]]; then
    bin=$(pg_bin)
    [[ -n "$bin" && -d "$DIR/pg" ]] && su postgres -s /bin/sh -c "$bin/pg_ctl -D $DIR/pg -m fast stop" >&2 || true
    command -v redis-cli >/dev/null && redis-cli -p "$REDIS_PORT" shutdown nosave >&2 2>/dev/null || true
    exit 0
fi

missing=()
[[ -n "$(pg_bin)" ]] || missing+=(postgresql postgresql-contrib)
command -v redis-server >/dev/null || missing+=(redis-server)
if ((${#missing[@]})); then
    echo "installing ${missing[*]} from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
bin=$(pg_bin)

mkdir -p "$DIR"
if ! su postgres -s /bin/sh -c "$bin/pg_ctl -D $DIR/pg status" >/dev/null 2>&1; then
    rm -rf "$DIR/pg"
    install -d -o postgres -g postgres "$DIR/pg"
    su postgres -s /bin/sh -c "$bin/initdb -D $DIR/pg -A trust -U postgres -E UTF8 --locale=C.UTF-8" >/dev/null
    su postgres -s /bin/sh -c "$bin/pg_ctl -D $DIR/pg -l $DIR/pg/server.log -w \
        -o '-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$DIR/pg \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200' start" >/dev/null
fi
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
        --daemonize yes --logfile "$DIR/redis.log" --dir "$DIR" >&2
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
echo "export GOVCRAWLER_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
echo "export GOVCRAWLER_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
