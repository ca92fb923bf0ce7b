#!/usr/bin/env bash
# The README's test command: set up .venv from the pinned constraints, lint, type-check, run every test.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev,demo
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m warehouse_sources schema --check include/source.schema.json
# The browser tests drive Debian's chromium (Playwright cannot download its own browser here).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# The SSH tunnel tests start Debian's sshd as a throwaway bastion.
if [ ! -x /usr/sbin/sshd ] && [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
fi
# The Sources page: rebuild it from the locked npm dependencies; the committed bundle must be that build.
scripts/build_ui.sh --check
# Two workers by default (each test file stays on one worker, with its module fixtures); the
# services (PostgreSQL, MariaDB, moto, Airflow's SQLite per worker) take them side by side.
# WS_TEST_WORKERS=0 runs in one process.
status=0
.venv/bin/pytest -n "${WS_TEST_WORKERS:-2}" --dist loadfile "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests; that is a failure here" >&2
  exit 1
fi
exit "$status"
