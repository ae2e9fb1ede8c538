#!/usr/bin/env bash
# Starts a throwaway Redis for the tests on 127.0.0.1:63790 (loopback only, no
# persistence) and prints the REDIS_URL line to export. Idempotent: a server
# already answering on the port is reused. Installs Debian's redis-server when
# redis-server/redis-cli are missing.
#
#   eval "$(scripts/redis-start.sh | grep '^REDIS_URL=')" && export REDIS_URL
#
# Environment: REDIS_PORT (default 63790), REDIS_DIR (default a directory
# under ${TMPDIR:-/tmp}, holding the log and pid file).
set -euo pipefail

PORT="${REDIS_PORT:-63790}"
DIR="${REDIS_DIR:-${TMPDIR:-/tmp}/migration-glue-redis-${PORT}}"
URL="redis://127.0.0.1:${PORT}"

log() { echo "redis-start: $*" >&2; }

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  log "redis-server/redis-cli not found: installing Debian's redis-server"
  if [ "$(id -u)" -ne 0 ]; then log "not root: cannot apt-get install redis-server"; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  # Wait for the dpkg lock rather than fail when another install is running.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends redis-server redis-tools >/dev/null
fi

ready() { [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null || true)" = "PONG" ]; }

if ready; then
  log "a server already answers on 127.0.0.1:${PORT}; reusing it"
else
  mkdir -p "$DIR"
  log "starting redis-server on 127.0.0.1:${PORT}"
  # No RDB snapshots, no AOF: a throwaway test server, nothing to keep across restarts.
  redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no \
    --daemonize yes --dir "$DIR" --logfile "$DIR/redis.log" --pidfile "$DIR/redis.pid"
fi

for _ in $(seq 1 100); do
  if ready; then break; fi
  sleep 0.1
done
if ! ready; then log "the server did not answer PING"; cat "$DIR/redis.log" >&2 || true; exit 1; fi

echo "REDIS_URL=${URL}"
