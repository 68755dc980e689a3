#!/usr/bin/env bash
#
# pg-test-cluster.sh - a throw-away PostgreSQL 15 cluster for the test suite.
#
# Why: the PostgreSQL driver must pass the same tests as SQLite in CI, which
# runs as root on a fresh machine. This starts a private cluster in DIR on a
# free loopback port (never the system's 5432 cluster), tuned for speed, not
# durability: fsync, synchronous_commit and full_page_writes are off.
#
# Usage:
#   tools/pg-test-cluster.sh start DIR   create DIR, start, print the URL
#   tools/pg-test-cluster.sh url DIR     print the URL of a running cluster
#   tools/pg-test-cluster.sh reset DIR   drop and re-create the test database
#   tools/pg-test-cluster.sh stop DIR    stop the cluster and remove DIR
#
# The URL is postgresql://rhis@127.0.0.1:PORT/rhis_test; role rhis (trusted
# on 127.0.0.1) owns database rhis_test and may create further databases.
# As root, the server runs as the unprivileged system user $RHIS_PG_USER
# (default rhistest), created on first use: postgres refuses to run as root.
set -euo pipefail

PGBIN=${RHIS_PG_BIN:-/usr/lib/postgresql/15/bin}
OSUSER=${RHIS_PG_USER:-rhistest}
DBUSER=rhis
DBNAME=rhis_test
MARKER=.rhis-pg-test-cluster

die() {
    echo "pg-test-cluster: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start|stop|url|reset DIR" >&2
    exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2

# as_owner CMD...: run CMD as the cluster's OS user, inside DIR.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd "$dir" && runuser -u "$OSUSER" -- "$@")
    else
        (cd "$dir" && "$@")
    fi
}

ensure_os_user() {
    [ "$(id -u)" -eq 0 ] || return 0
    if ! id -u "$OSUSER" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$OSUSER" ||
            die "cannot create system user $OSUSER"
    fi
}

port_busy() {
    if command -v ss >/dev/null 2>&1; then
        ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
        return 1
    fi
    # No ss: a connect that succeeds means something listens.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
    local p i
    for i in $(seq 1 50); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
        if ! port_busy "$p"; then
            echo "$p"
            return 0
        fi
    done
    die "no free port found in 20000-60000"
}

show_log() {
    if [ -f "$dir/postgres.log" ]; then
        echo "---- $dir/postgres.log (last 40 lines) ----" >&2
        tail -n 40 "$dir/postgres.log" >&2 || true
        echo "----" >&2
    fi
}

psql_admin() {
    as_owner "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/sock" \
        -p "$(cat "$dir/port")" -U postgres -d postgres "$@"
}

url() {
    [ -f "$dir/port" ] || die "no cluster in $dir"
    echo "postgresql://$DBUSER@127.0.0.1:$(cat "$dir/port")/$DBNAME"
}

start() {
    [ -x "$PGBIN/initdb" ] || die "$PGBIN/initdb not found (install postgresql-15)"
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
        die "$dir exists and is not empty"
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    touch "$dir/$MARKER"
    mkdir -p "$dir/sock"
    chmod 700 "$dir"
    ensure_os_user
    if [ "$(id -u)" -eq 0 ]; then
        chown -R "$OSUSER:" "$dir"
        runuser -u "$OSUSER" -- test -w "$dir" ||
            die "$OSUSER cannot reach $dir (a parent directory is not searchable)"
    fi

    if ! as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust \
        -E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        die "initdb failed"
    fi
    cat >>"$dir/data/postgresql.conf" <<CONF

# rhis test cluster: throw-away, speed over durability
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
    cat >"$dir/data/pg_hba.conf" <<HBA
# TYPE  DATABASE  USER      ADDRESS       METHOD
local   all       all                     trust
host    all       $DBUSER   127.0.0.1/32  trust
host    all       postgres  127.0.0.1/32  trust
HBA

    local port attempt ok=0
    for attempt in 1 2 3 4 5; do
        port=$(pick_port)
        if as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" \
            -o "-p $port" -w -t 60 start >/dev/null; then
            ok=1
            break
        fi
        # Most likely someone took the port in between: try another one.
        echo "pg-test-cluster: start on port $port failed (attempt $attempt)" >&2
        show_log
    done
    [ "$ok" = 1 ] || die "could not start the cluster in $dir"
    echo "$port" >"$dir/port"

    local i
    for i in $(seq 1 60); do
        if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then
            break
        fi
        if [ "$i" = 60 ]; then
            show_log
            halt
            die "server on port $port not ready"
        fi
        sleep 0.5
    done

    if ! psql_admin -c "CREATE ROLE $DBUSER LOGIN CREATEDB" \
        -c "CREATE DATABASE $DBNAME OWNER $DBUSER ENCODING 'UTF8' TEMPLATE template0" \
        >/dev/null; then
        show_log
        halt
        die "could not create role/database"
    fi
    url
}

reset() {
    url >/dev/null
    psql_admin -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" \
        -c "CREATE DATABASE $DBNAME OWNER $DBUSER ENCODING 'UTF8' TEMPLATE template0" \
        >/dev/null || die "could not re-create $DBNAME"
    url
}

# halt: stop the server of a half-started cluster, keep DIR for inspection.
halt() {
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop \
        >/dev/null 2>&1 || true
}

stop() {
    [ -d "$dir" ] || return 0
    [ -f "$dir/$MARKER" ] || die "$dir is not a test cluster directory; not touching it"
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null ||
            as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop \
                >/dev/null || true
    fi
    rm -rf "$dir"
}

case "$cmd" in
start) start ;;
stop) stop ;;
url) url ;;
reset) reset ;;
*) usage ;;
esac
