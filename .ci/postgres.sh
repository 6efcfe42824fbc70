#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests marked `postgres` (and benchmarks/storage_scaling.py).
#
#   . .ci/postgres.sh            # sourced (as .ci/run does): starts it, stops it when the shell exits
#   .ci/postgres.sh CMD [ARG…]   # called: starts it, runs CMD, stops it, exits with CMD's status
#
# Installs Debian's `postgresql` if no server is installed (apt-get, quiet), creates a cluster in a
# temporary directory, starts it on 127.0.0.1 on a free port, creates the role `automl` WITH a random
# password (so the tests exercise password handling) and the database `automl` it owns, and exports
#   AUTOML_TEST_POSTGRES_URL=postgresql+psycopg2://automl:PASSWORD@127.0.0.1:PORT/automl
# The role may create databases: the `postgres_url` fixture gives every test a fresh one.
# The server is stopped and its directory removed on exit, also when the tests fail (trap).
# initdb refuses root: as root the server runs as the `postgres` user the package creates.

_pg_log() { echo "postgres.sh: $*" >&2; }

_pg_bin() {
    # Debian keeps the server binaries under /usr/lib/postgresql/<version>/bin, off PATH.
    local dir found=""
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && found=$dir
    done
    echo "$found"
}

_pg_install() {
    local sudo="" log
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log=$(mktemp /tmp/automl-pg-apt.XXXXXX)
    _pg_log "installing Debian's postgresql (apt-get)…"
    # No default cluster on port 5432: this script makes its own, in a temporary directory.
    if $sudo apt-get update -qq >"$log" 2>&1 \
        && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql-common >>"$log" 2>&1 \
        && $sudo sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' \
            /etc/postgresql-common/createcluster.conf \
        && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >>"$log" 2>&1; then
        rm -f "$log"
    else
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
}

postgres_start() {
    local started=$SECONDS bin as port password
    bin=$(_pg_bin)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        _pg_install
        bin=$(_pg_bin)
    fi
    [ -n "$bin" ] && [ -x "$bin/initdb" ] || { _pg_log "no initdb after installing postgresql"; return 1; }

    AUTOML_PG_DIR=$(mktemp -d /tmp/automl-pg.XXXXXX)
    as=()
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$AUTOML_PG_DIR"
        as=(runuser -u postgres --)
    fi
    AUTOML_PG_CTL=("${as[@]}" "$bin/pg_ctl" -D "$AUTOML_PG_DIR/data")
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')

    # Local socket (in the temporary directory) trusted for set-up; TCP needs the password.
    "${as[@]}" "$bin/initdb" -D "$AUTOML_PG_DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$AUTOML_PG_DIR/initdb.log" 2>&1 \
        || { cat "$AUTOML_PG_DIR/initdb.log" >&2; return 1; }
    local try
    for try in 1 2 3; do  # another process may take the free port before the server binds it
        "${AUTOML_PG_CTL[@]}" -w -t 60 -l "$AUTOML_PG_DIR/server.log" \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $AUTOML_PG_DIR -c max_connections=200" \
            start >/dev/null && break
        [ "$try" -lt 3 ] || { cat "$AUTOML_PG_DIR/server.log" >&2; return 1; }
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    done
    "${as[@]}" "$bin/psql" -q -v ON_ERROR_STOP=1 -h "$AUTOML_PG_DIR" -p "$port" -U postgres -d postgres \
        -c "CREATE ROLE automl LOGIN CREATEDB PASSWORD '$password'" \
        -c "CREATE DATABASE automl OWNER automl" >/dev/null || return 1

    export AUTOML_TEST_POSTGRES_URL="postgresql+psycopg2://automl:$password@127.0.0.1:$port/automl"
    _pg_log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" \
        "(install + start: $((SECONDS - started)) s)"
}

postgres_stop() {
    if [ -n "${AUTOML_PG_DIR:-}" ] && [ -d "$AUTOML_PG_DIR" ]; then
        "${AUTOML_PG_CTL[@]}" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$AUTOML_PG_DIR"
        _pg_log "server stopped"
    fi
    unset AUTOML_PG_DIR AUTOML_TEST_POSTGRES_URL
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
    # Sourced: the caller's shell stops the server when it exits, whatever the tests' outcome.
    trap postgres_stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    postgres_start
else
    set -euo pipefail
    trap postgres_stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    postgres_start
    if [ "$#" -gt 0 ]; then
        "$@"
    fi
fi
