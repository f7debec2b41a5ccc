#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite (Debian's `postgresql` package: initdb and pg_ctl
# under /usr/lib/postgresql/*/bin), in a temporary directory, on a free port of 127.0.0.1, with password
# authentication. postgres refuses to run as root: as root the cluster belongs to, and runs as, `nobody`.
#
#   eval "$(.ci/postgres.sh start)"    # prints export lines: BULLETIN_BOT_TEST_DATABASE_URL, PG_TEST_DIR
#   .ci/postgres.sh stop "$PG_TEST_DIR"  # stops the server and deletes the cluster
#
# Exits non-zero (and says why on stderr) when the binaries are missing or the server does not start.
set -euo pipefail

bindir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    echo "postgres.sh: initdb/pg_ctl not found (apt-get install postgresql)" >&2
    return 1
}

as_owner() {  # run a command as the cluster's owner: nobody when we are root, else ourselves
    if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

start() {
    local bin dir port password
    bin=$(bindir)
    dir=$(mktemp -d /tmp/bulletin-pg.XXXXXX)
    chmod 755 "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
    printf '%s\n' "$password" > "$dir/pwfile"
    mkdir "$dir/data" "$dir/run"
    [ "$(id -u)" = 0 ] && chown -R nobody "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U bulletin --pwfile="$dir/pwfile" -A scram-sha-256 -E UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/pwfile"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-p $port -k $dir/run -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2 \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "export PG_TEST_DIR=$dir"
    echo "export BULLETIN_BOT_TEST_DATABASE_URL=postgresql://bulletin:$password@127.0.0.1:$port/postgres"
}

stop() {
    local dir=${1:?usage: postgres.sh stop DIR}
    [ -d "$dir/data" ] && as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    case "$dir" in /tmp/bulletin-pg.*) rm -rf "$dir" ;; esac
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
