#!/usr/bin/env bash
# Build the Sources page bundle from the locked npm dependencies (plugins/warehouse_sources/web/ui/dist).
# --check: build into a scratch folder and fail when it differs from the committed bundle.
set -euo pipefail
cd "$(dirname "$0")/../plugins/warehouse_sources/web/ui"
npm ci --no-audit --no-fund --loglevel=error
if [ "${1:-}" != "--check" ]; then
  npm run build --silent
  exit 0
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
npm run build --silent -- --outDir "$scratch" >/dev/null
if ! diff -r "$scratch" dist >/dev/null; then
  echo "The committed Sources page bundle (plugins/warehouse_sources/web/ui/dist) differs from a fresh build" >&2
  echo "of web/ui/src: run scripts/build_ui.sh and commit web/ui/dist." >&2
  exit 1
fi
echo "Sources page bundle matches a fresh build"
