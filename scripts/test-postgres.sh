#!/usr/bin/env bash
# Starts a private PostgreSQL cluster on loopback for the integration tests, as a non-root user,
# and prints the URL the tests connect with. Sourced by scripts/test.sh:
#
#   start_test_postgres   # exports CAIRN_TEST_DATABASE_URL
#   stop_test_postgres
#
# The application role `cairn` is NOT a superuser: PostgreSQL superusers bypass row-level
# security, and the tests prove that RLS holds for the role Cairn really runs as.

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
PG_PORT="${CAIRN_TEST_PG_PORT:-}"
PG_OWNER=""
PG_DATA=""

as_pg_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$PG_OWNER" -- "$@"; else "$@"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_test_postgres() {
  [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL server binaries not found; run scripts/setup.sh" >&2; return 1; }
  if [ -z "$PG_PORT" ]; then
    # First free port from 55432, so a cluster left running elsewhere does not collide.
    PG_PORT=55432
    while port_in_use "$PG_PORT"; do PG_PORT=$((PG_PORT + 1)); done
  fi
  if [ "$(id -u)" -eq 0 ]; then
    PG_OWNER=cairn-pg
    id "$PG_OWNER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OWNER"
  else
    PG_OWNER="$(id -un)"
  fi
  PG_DATA="$(mktemp -d "${TMPDIR:-/tmp}/cairn-test-pg.XXXXXX")"
  chown "$PG_OWNER" "$PG_DATA" 2>/dev/null || true
  chmod 700 "$PG_DATA"
  as_pg_owner "$PG_BIN/initdb" -D "$PG_DATA/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  # fsync off: these clusters are thrown away; durability is PostgreSQL's concern, not the tests'.
  as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -l "$PG_DATA/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DATA -c fsync=off -c max_connections=300" start >/dev/null
  as_pg_owner "$PG_BIN/psql" -q -h "$PG_DATA" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE cairn LOGIN PASSWORD 'cairn' CREATEDB NOSUPERUSER" \
    -c "CREATE DATABASE cairn OWNER cairn" >/dev/null
  export CAIRN_TEST_DATABASE_URL="postgres://cairn:cairn@127.0.0.1:$PG_PORT/cairn?sslmode=disable"
  echo "PostgreSQL for tests: $CAIRN_TEST_DATABASE_URL (data in $PG_DATA)" >&2
}

stop_test_postgres() {
  [ -n "$PG_DATA" ] || return 0
  as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DATA"
}
