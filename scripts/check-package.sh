#!/usr/bin/env bash
# Packs the package as npm would publish it, then checks the tarball:
# only dist/, README, LICENSE and package.json inside; publint and
# arethetypeswrong report no problem for ESM and CJS consumers.
set -euo pipefail
cd "$(dirname "$0")/.."

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

tarball="$(npm pack --silent --pack-destination "$workdir" | tail -n 1)"
tarball="$workdir/$tarball"

unexpected="$(tar -tzf "$tarball" | sed 's#^package/##' | grep -Ev '^(dist/.*|README\.md|LICENSE|package\.json)$' || true)"
if [[ -n "$unexpected" ]]; then
  echo "unexpected files in the package:" >&2
  echo "$unexpected" >&2
  exit 1
fi

npx publint run "$tarball" --strict
npx attw "$tarball" --profile node16

# Install the tarball as a user would (with the optional peers), then load
# every export from CommonJS and from ESM, and run the command-line tool.
peers="$(node -p "Object.entries(require('./package.json').peerDependencies).map(([n]) => n + '@' + require('./package.json').devDependencies[n]).join(' ')")"
exports="$(node -p "Object.keys(require('./package.json').exports).filter((e) => e !== './package.json').map((e) => 'migration-glue' + e.slice(1)).join(' ')")"
consumer="$workdir/consumer"
mkdir -p "$consumer"
(
  cd "$consumer"
  echo '{ "name": "consumer", "private": true }' > package.json
  # shellcheck disable=SC2086
  npm install --no-audit --no-fund --prefer-offline --loglevel=error "$tarball" $peers >/dev/null
  for name in $exports; do
    node -e "const m = require('$name'); if (Object.keys(m).length === 0) throw new Error('$name exports nothing')"
    node --input-type=module -e "const m = await import('$name'); if (Object.keys(m).length === 0) throw new Error('$name exports nothing')"
  done
  npx --no-install migration-glue --help >/dev/null
)
echo "every export loads from CommonJS and ESM: $exports"
echo "package check passed: $(basename "$tarball")"
