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
echo "package check passed: $(basename "$tarball")"
