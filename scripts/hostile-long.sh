#!/usr/bin/env bash
# The hostile-input harness, long: HOSTILE_RUNS cases per property (default
# 6000; a few dear properties run a share of it; over 100,000 cases in all),
# every property strict, shrinking on, under --unhandled-rejections=strict.
# Pick another seed with HOSTILE_SEED. Prints the cases run and the time taken.
set -euo pipefail
cd "$(dirname "$0")/.."
export HOSTILE_RUNS="${HOSTILE_RUNS:-6000}"
export HOSTILE_STRICT=1
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--unhandled-rejections=strict"
counts="$(mktemp)"
trap 'rm -f "$counts"' EXIT
export HOSTILE_COUNT_FILE="$counts"
echo "hostile harness: ${HOSTILE_RUNS} runs per property, seed ${HOSTILE_SEED:-default}"
start=$(date +%s)
status=0
npx vitest run test/hostile --testTimeout=0 "$@" || status=$?
total=$(awk '{ sum += $1 } END { print sum + 0 }' "$counts")
properties=$(wc -l < "$counts" | tr -d ' ')
echo "hostile harness: ${total} cases over ${properties} properties in $(( $(date +%s) - start )) s, exit ${status}"
exit "$status"
