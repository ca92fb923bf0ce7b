#!/usr/bin/env bash
# Build the Sources and Query page bundles from the locked npm dependencies
# (plugins/warehouse_sources/web/ui/dist/sources-page.js and query-page.js: one UMD bundle per
# react_app, see vite.config.ts).
# --check: build into a scratch folder and fail when it differs from the committed bundles.
set -euo pipefail
cd "$(dirname "$0")/../plugins/warehouse_sources/web/ui"
npm ci --no-audit --no-fund --loglevel=error
npx --no-install tsc --noEmit -p tsconfig.json

build() {  # build every page into $1, and nothing else there
  rm -rf "$1" && mkdir -p "$1"
  for page in sources query; do
    PAGE="$page" npx --no-install vite build --logLevel error --outDir "$1"
  done
}

if [ "${1:-}" != "--check" ]; then
  build dist
  exit 0
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
build "$scratch/dist"
if ! diff -r "$scratch/dist" dist >/dev/null; then
  echo "The committed page bundles (plugins/warehouse_sources/web/ui/dist) differ from a fresh build" >&2
  echo "of web/ui/src: run scripts/build_ui.sh and commit web/ui/dist." >&2
  exit 1
fi
echo "Sources and Query page bundles match a fresh build"
