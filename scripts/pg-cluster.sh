#!/usr/bin/env bash
# pg-cluster.sh: a throwaway PostgreSQL cluster for tests and benchmarks.
#
#   scripts/pg-cluster.sh start DIR   creates DIR, starts a cluster in it, prints its URL
#                                     (postgres://USER@127.0.0.1:PORT/qm) and writes it to DIR/url
#   scripts/pg-cluster.sh stop DIR    stops that cluster (pg_ctl stop -m fast) and removes DIR
#
# The cluster listens on 127.0.0.1 only, on a free port, with trust authentication for
# 127.0.0.1 (peer authentication on its Unix socket, which lives inside DIR), fsync and
# synchronous_commit on (durability is what the tests measure), and a database `qm`.
# If no PostgreSQL server is installed, `start` installs Debian's `postgresql` package
# (needs root). initdb refuses to run as root: as root the cluster belongs to the
# `postgres` system user (created if missing); as any other user it belongs to that user.
#
# Layout of DIR: data/ (the cluster, owned by the cluster's user), sock/ (its Unix
# socket), server.log, url, bindir, and .qm-pg-cluster (a marker: `stop` removes only
# directories that carry it).
set -euo pipefail

MARKER=.qm-pg-cluster

die() {
    echo "pg-cluster.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start DIR | stop DIR" >&2
    exit 2
}

# The newest installed server's bin directory, or nothing.
find_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$d" && -x "$d/initdb" ]]; then
        echo "$d"
    fi
}

install_server() {
    [[ $EUID -eq 0 ]] || die "no PostgreSQL server in /usr/lib/postgresql/*/bin and not root: install Debian's 'postgresql' package"
    command -v apt-get >/dev/null || die "no PostgreSQL server installed and no apt-get to install one"
    echo "pg-cluster.sh: installing PostgreSQL with apt-get" >&2
    # Do not let the package create (and start) its default cluster on port 5432:
    # ours are made here, on demand.
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/qm-no-main-cluster.conf
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
}

# Runs a command as the cluster's user: `postgres` when we are root, else ourselves.
as_owner() {
    local owner=$1
    shift
    if [[ $EUID -eq 0 && "$owner" != root ]]; then
        runuser -u "$owner" -- "$@"
    else
        "$@"
    fi
}

port_in_use() {
    # A connect that succeeds means something listens there.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cmd_start() {
    local dir=$1
    if [[ -e "$dir" && -n "$(ls -A "$dir" 2>/dev/null)" ]]; then
        die "$dir exists and is not empty"
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    [[ "$dir" != *"'"* ]] || die "the directory path must not contain a quote: $dir"
    touch "$dir/$MARKER"

    local bindir
    bindir=$(find_bindir)
    if [[ -z "$bindir" ]]; then
        install_server
        bindir=$(find_bindir)
        [[ -n "$bindir" ]] || die "installed 'postgresql' but found no /usr/lib/postgresql/*/bin/initdb"
    fi
    echo "$bindir" >"$dir/bindir"

    local owner
    if [[ $EUID -eq 0 ]]; then
        owner=postgres
        if ! id -u "$owner" >/dev/null 2>&1; then
            useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
                --shell /bin/bash "$owner"
        fi
        # The server writes its log and socket under DIR and must reach DIR's path.
        chown "$owner:" "$dir"
        chmod 0755 "$dir"
        as_owner "$owner" test -x "$dir" ||
            die "user $owner cannot reach $dir: choose a directory under a path it can traverse (e.g. /tmp)"
    else
        owner=$(id -un)
    fi

    # A Unix socket path is limited to 107 bytes.
    ((${#dir} + 25 < 107)) || die "path too long for a Unix socket directory: $dir"
    as_owner "$owner" mkdir -m 0700 "$dir/data"
    as_owner "$owner" mkdir -m 0755 "$dir/sock"

    as_owner "$owner" "$bindir/initdb" -D "$dir/data" -U "$owner" --auth-local=peer --auth-host=trust \
        --encoding=UTF8 --locale=C.UTF-8 --no-instructions >"$dir/initdb.log" 2>&1 ||
        die "initdb failed: $(tail -n 20 "$dir/initdb.log")"

    # Trust on 127.0.0.1 only; nothing else reaches it over TCP.
    as_owner "$owner" tee "$dir/data/pg_hba.conf" >/dev/null <<EOF
# Written by pg-cluster.sh: a throwaway test cluster.
local   all   all                 peer
host    all   all   127.0.0.1/32  trust
EOF

    local attempt port="" started=""
    for attempt in $(seq 1 20); do
        port=$((20000 + RANDOM % 40000))
        if port_in_use "$port"; then
            continue
        fi
        as_owner "$owner" tee "$dir/data/postgresql.auto.conf" >/dev/null <<EOF
# Written by pg-cluster.sh.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/sock'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 200
EOF
        # -l sends the server's output to a file: it must not hold our caller's stdout open.
        if as_owner "$owner" "$bindir/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            >>"$dir/pg_ctl.log" 2>&1; then
            started=yes
            break
        fi
        # Most likely another process took the port between our check and the bind: retry.
        echo "pg-cluster.sh: start on port $port failed (attempt $attempt), retrying" >&2
    done
    [[ -n "$started" ]] || die "could not start the server: $(tail -n 20 "$dir/server.log" 2>/dev/null)"

    local i
    for i in $(seq 1 120); do
        if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; then
            break
        fi
        ((i < 120)) || die "server did not accept connections on port $port"
        sleep 0.5
    done

    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$owner" -d postgres \
        -c "CREATE DATABASE qm" >/dev/null || die "could not create database qm"

    local url="postgres://$owner@127.0.0.1:$port/qm"
    echo "$url" >"$dir/url"
    echo "$url"
}

cmd_stop() {
    local dir=$1
    if [[ ! -e "$dir" ]]; then
        echo "pg-cluster.sh: $dir does not exist: nothing to stop" >&2
        return 0
    fi
    [[ -e "$dir/$MARKER" ]] || die "$dir was not made by pg-cluster.sh start: not touching it"
    dir=$(cd "$dir" && pwd -P)
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        local bindir owner
        bindir=$(cat "$dir/bindir" 2>/dev/null || find_bindir)
        owner=$(stat -c %U "$dir/data")
        # A server that already died leaves a stale pid file: then there is nothing to stop.
        if ! as_owner "$owner" "$bindir/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 >>"$dir/pg_ctl.log" 2>&1; then
            if as_owner "$owner" "$bindir/pg_ctl" status -D "$dir/data" >/dev/null 2>&1; then
                die "could not stop the server in $dir/data: $(tail -n 5 "$dir/pg_ctl.log")"
            fi
        fi
    fi
    rm -rf -- "$dir"
}

[[ $# -eq 2 ]] || usage
case "$1" in
    start) cmd_start "$2" ;;
    stop) cmd_stop "$2" ;;
    *) usage ;;
esac
