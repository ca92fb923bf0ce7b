#!/usr/bin/env bash
# Create (or reuse) .venv with this project installed from the committed constraints.
# The venv is reused only while constraints.txt and setup.cfg are unchanged since it was built.
# Usage: scripts/bootstrap.sh [extras]   (default extras: dev,demo)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-dev,demo}"
venv=.venv
stamp="$venv/.warehouse-sources-stamp"
want="$(cat constraints.txt setup.cfg | sha256sum | cut -c1-16)-$extras"

pick_python() {
  for py in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$py" ] || continue
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys; sys.exit(not sys.version_info >= (3, 11))' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "Python 3.11+ is required (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c 'import warehouse_sources' 2>/dev/null; then
  exit 0
fi
py="$(pick_python)"
echo "Setting up $venv with $py (extras: $extras) ..."
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$(grep -i '^uv==' constraints.txt | cut -d= -f3)"
"$venv/bin/uv" pip install --quiet --python "$venv/bin/python" -c constraints.txt -e ".[$extras]"
# setuptools leaves an egg-info beside the package; on sys.path it would list the plugin twice.
rm -rf plugins/*.egg-info
echo "$want" > "$stamp"
