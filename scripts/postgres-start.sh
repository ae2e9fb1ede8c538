#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the tests on 127.0.0.1:54329 (trust auth,
# loopback only) and prints the PG_URL line to export. Idempotent: a server
# already answering on the port is reused. Installs Debian's postgresql when
# initdb/pg_ctl are missing. Runs the server as the `postgres` user.
#
#   eval "$(scripts/postgres-start.sh | grep '^PG_URL=')" && export PG_URL
#
# Environment: PG_PORT (default 54329), PG_DATA (default a directory under
# ${TMPDIR:-/tmp}), PG_DB (default migration_glue_test).
set -euo pipefail

PORT="${PG_PORT:-54329}"
DB="${PG_DB:-migration_glue_test}"
DATA="${PG_DATA:-${TMPDIR:-/tmp}/migration-glue-pg-${PORT}}"
URL="postgres://postgres@127.0.0.1:${PORT}/${DB}"

log() { echo "postgres-start: $*" >&2; }

find_bin() {
  local name="$1" found
  if found="$(command -v "$name" 2>/dev/null)"; then echo "$found"; return 0; fi
  # Debian keeps the server binaries off PATH, one directory per major version; take the newest.
  found="$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$found" ]; then echo "$found"; return 0; fi
  return 1
}

if ! find_bin initdb >/dev/null || ! find_bin pg_ctl >/dev/null; then
  log "initdb/pg_ctl not found: installing Debian's postgresql"
  if [ "$(id -u)" -ne 0 ]; then log "not root: cannot apt-get install postgresql"; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql postgresql-client >/dev/null
fi
INITDB="$(find_bin initdb)"
PG_CTL="$(find_bin pg_ctl)"
BIN_DIR="$(dirname "$PG_CTL")"
PG_ISREADY="$(find_bin pg_isready || echo "$BIN_DIR/pg_isready")"
PSQL="$(find_bin psql || echo "$BIN_DIR/psql")"

# Run a command as the postgres user when we are root (initdb refuses to run as root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  log "creating the postgres user"
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

ready() { as_pg "$PG_ISREADY" -q -h 127.0.0.1 -p "$PORT" >/dev/null 2>&1; }

if ready; then
  log "a server already answers on 127.0.0.1:${PORT}; reusing it"
else
  if [ ! -s "$DATA/PG_VERSION" ]; then
    log "initialising a cluster in $DATA"
    mkdir -p "$DATA"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$DATA"; fi
    chmod 700 "$DATA"
    as_pg "$INITDB" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
    {
      echo "local all all trust"
      echo "host all all 127.0.0.1/32 trust"
    } >"$DATA/pg_hba.conf"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$DATA/pg_hba.conf"; fi
  fi
  # fsync off: a throwaway test server, speed over durability.
  log "starting the server on 127.0.0.1:${PORT}"
  as_pg "$PG_CTL" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p ${PORT} -k ${DATA} -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$DATA/server.log" >&2 || true; exit 1; }
fi

for _ in $(seq 1 60); do
  if ready; then break; fi
  sleep 0.5
done
if ! ready; then log "the server did not become ready"; cat "$DATA/server.log" >&2 || true; exit 1; fi

if ! as_pg "$PSQL" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '${DB}'" | grep -q 1; then
  log "creating database ${DB}"
  as_pg "$PSQL" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc "CREATE DATABASE \"${DB}\""
fi

echo "PG_URL=${URL}"
