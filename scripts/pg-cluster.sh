#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests.
#
#   scripts/pg-cluster.sh start DIR   # prints the postgres:// URL of a superuser
#   scripts/pg-cluster.sh stop DIR    # stops it and deletes DIR/cluster
#
# initdb + pg_ctl in DIR on a free loopback port, password (SCRAM) auth over
# TCP so the tests can try a wrong password; the socket lives in DIR too, so
# nothing outside DIR is touched. initdb refuses to run as root: as root the
# cluster belongs to the `postgres` user (made by Debian's postgresql package).
# DIR's parent folders must let that user through. The PostgreSQL binaries come from PG_BINDIR, else the newest
# /usr/lib/postgresql/*/bin (Debian's layout), else PATH.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
data="$dir/cluster"

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
fi

# Runs a PostgreSQL tool as the cluster's owner, from DIR (root's home is not
# the postgres user's to enter).
pgtool() {
  local tool=${bindir:+$bindir/}$1; shift
  if [ "$(id -u)" = 0 ]; then
    (cd "$dir" && runuser -u postgres -- "$tool" "$@")
  else
    (cd "$dir" && "$tool" "$@")
  fi
}

case "$cmd" in
  start)
    [ ! -e "$data" ] || { echo "$data exists: stop that cluster first" >&2; exit 1; }
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$data"
    printf '%s\n' "$password" >"$dir/password"
    chmod 600 "$dir/password"
    if [ "$(id -u)" = 0 ]; then
      chown postgres "$dir" "$data" "$dir/password"
    fi
    pgtool initdb -D "$data" -U gridmap --pwfile="$dir/password" --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    pgtool pg_ctl -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "postgres://gridmap:$password@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -f "$data/postmaster.pid" ]; then
      pgtool pg_ctl -D "$data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$data" "$dir/password" "$dir/port"
    ;;
  *) usage ;;
esac
