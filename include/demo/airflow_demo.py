"""Airflow side of scripts/demo.sh: a known demo login, then one run of each demo DAG.

    python include/demo/airflow_demo.py login AIRFLOW_HOME           # prints the admin password
    python include/demo/airflow_demo.py trigger URL DAG_ID [DAG_ID ...]

`login` writes the simple auth manager's passwords file (JSON {"user": "password"}) with a
password generated on the first run and kept in AIRFLOW_HOME (never in the repo).
`trigger` waits for the API server, prints the address and login, logs in, waits until each
DAG is parsed, unpauses it and starts one run (unless the scheduler already did), so the
warehouse fills without waiting for the schedule. Standard library only.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

USER = "admin"
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"
API_TIMEOUT_S = 300.0
DAG_TIMEOUT_S = 300.0
FIRST_RUN_WAIT_S = 10.0


def login(airflow_home: Path) -> str:
    """The demo admin's password, created on first use and written where Airflow reads it."""
    path = airflow_home / PASSWORDS_FILE
    passwords: dict[str, str] = {}
    if path.exists() and path.read_text().strip():
        passwords = json.loads(path.read_text())
    if USER not in passwords:
        passwords[USER] = secrets.token_urlsafe(12)
        airflow_home.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(passwords) + "\n")
        path.chmod(0o600)
    return passwords[USER]


def call(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """One JSON request, retried on a 5xx or a timeout (a busy API server); returns (status, body)."""
    for attempt in range(1, 5):
        try:
            status, answer = call_once(method, url, body, token)
        except OSError:  # includes timeouts and refused connections
            if attempt == 4:
                raise
            time.sleep(3)
            continue
        if status < 500 or attempt == 4:
            break
        time.sleep(3)
    return status, answer


def call_once(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """One JSON request; returns (status, decoded body). Connection errors propagate."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        text = err.read().decode(errors="replace")
        try:
            return err.code, json.loads(text)
        except ValueError:
            return err.code, text


def wait_for_api(base: str) -> None:
    deadline = time.monotonic() + API_TIMEOUT_S
    while True:
        try:
            status, _ = call_once("GET", f"{base}/api/v2/monitor/health")
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"demo: the Airflow API server did not answer at {base} within {API_TIMEOUT_S:.0f}s")
        time.sleep(1)


def get_token(base: str, password: str) -> str:
    status, body = call("POST", f"{base}/auth/token", {"username": USER, "password": password})
    if status not in (200, 201):
        raise SystemExit(f"demo: login as {USER!r} failed ({status}): {body}")
    return str(body["access_token"])


def wait_for_dag(base: str, token: str, dag_id: str) -> dict[str, Any] | None:
    """The DAG as the API shows it, once the dag processor has serialized it; None on timeout."""
    deadline = time.monotonic() + DAG_TIMEOUT_S
    while time.monotonic() < deadline:
        status, body = call("GET", f"{base}/api/v2/dags/{dag_id}", token=token)
        if status == 200:
            return dict(body)
        time.sleep(5)
    return None


def import_errors(base: str, token: str) -> list[str]:
    _, body = call("GET", f"{base}/api/v2/importErrors", token=token)
    errors = body.get("import_errors", []) if isinstance(body, dict) else []
    return [f"{e.get('filename')}: {e.get('stack_trace', '').strip()}" for e in errors]


def banner(base: str, password: str) -> None:
    lines = [
        "Airflow is up: the demo is ready",
        "",
        f"  UI:        {base}",
        f"  username:  {USER}",
        f"  password:  {password}",
    ]
    width = max(len(line) for line in lines) + 4
    print("\n" + "=" * width + "\n" + "\n".join(lines) + "\n" + "=" * width + "\n", flush=True)


def active_run(base: str, token: str, dag_id: str) -> str | None:
    """Id of a queued or running run, waiting a little for the scheduler's first scheduled run.

    An unpaused DAG that never ran gets a scheduled run at once (catchup=False): triggering
    another one then would only queue a duplicate behind it (max_active_runs=1).
    """
    deadline = time.monotonic() + FIRST_RUN_WAIT_S
    while True:
        url = f"{base}/api/v2/dags/{dag_id}/dagRuns?state=queued&state=running&limit=1"
        status, body = call("GET", url, token=token)
        runs = body.get("dag_runs", []) if status == 200 and isinstance(body, dict) else []
        if runs:
            return str(runs[0]["dag_run_id"])
        if time.monotonic() > deadline:
            return None
        time.sleep(2)


def trigger(base: str, password: str, dag_ids: list[str]) -> int:
    wait_for_api(base)
    banner(base, password)
    token = get_token(base, password)
    missing = []
    for dag_id in dag_ids:
        dag = wait_for_dag(base, token, dag_id)
        if dag is None:
            missing.append(dag_id)
            continue
        if dag.get("is_paused"):
            call("PATCH", f"{base}/api/v2/dags/{dag_id}", {"is_paused": False}, token=token)
        active = active_run(base, token, dag_id)
        if active:
            print(f"demo: {dag_id} is already running ({active}); not triggering another run")
            continue
        status, body = call("POST", f"{base}/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None}, token=token)
        ok = status in (200, 201)
        print(f"demo: {'triggered' if ok else 'could not trigger'} {dag_id}: {body.get('dag_run_id') if ok else body}")
    if missing:
        print(f"demo: DAG(s) not found after {DAG_TIMEOUT_S:.0f}s: {', '.join(missing)}", file=sys.stderr)
        for line in import_errors(base, token):
            print(f"demo: import error in {line}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "login":
        print(login(Path(argv[1])))
        return 0
    if len(argv) >= 3 and argv[0] == "trigger":
        home = Path(os.environ["AIRFLOW_HOME"])
        try:
            return trigger(argv[1].rstrip("/"), login(home), argv[2:])
        except OSError as err:  # Airflow stopped (Ctrl-C) while we were waiting
            print(f"demo: gave up triggering the demo DAGs: {err}", file=sys.stderr)
            return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
