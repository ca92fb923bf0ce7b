"""A real Airflow (api-server, scheduler, dag-processor) on localhost for the browser tests.

Airflow's metadata lives in a throwaway PostgreSQL database (SQLite lock timeouts were seen
with parallel tasks); the sources are the demo's, pointed at throwaway source databases.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "e2e-" + uuid.uuid4().hex[:12]


@dataclass
class Stack:
    base: str
    home: Path
    sources: Path
    warehouse: Path
    env: dict[str, str]
    token: str = ""

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=30) as answer:
            text = answer.read().decode()
        return json.loads(text) if text.startswith(("{", "[")) else text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database(server: str, name: str, script: str | None = None) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    uri = server.rsplit("/", 1)[0] + f"/{name}"
    if script:
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute(script)  # type: ignore[call-overload]
    return uri


def _drop(server: str, names: list[str]) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# This process's template of Airflow's migrated metadata database, per server: `airflow db migrate`
# takes ~20 s on a loaded 2-core box, a copy with CREATE DATABASE ... TEMPLATE ~1 s, so each process
# migrates once and every stack gets a copy. Dropped when the process ends.
_TEMPLATES: dict[str, str] = {}


def migrated_database(server: str, name: str, env: dict[str, str]) -> str:
    """Create `name` with Airflow's metadata schema as `airflow db migrate` leaves it (run with `env`,
    aimed at this process's template); its URI."""
    import psycopg

    template = _TEMPLATES.get(server)
    if template is None:
        template = f"ws_e2e_airflow_template_{uuid.uuid4().hex[:8]}"
        uri = _database(server, template)
        atexit.register(_drop, server, [template])
        airflow = str(Path(sys.executable).with_name("airflow"))
        env = {**env, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": uri.replace("postgresql://", "postgresql+psycopg://", 1)}
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
        _TEMPLATES[server] = template
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return server.rsplit("/", 1)[0] + f"/{name}"


def shared_keys() -> dict[str, str]:
    """The keys every component of one deployment must share, as environment variables. Airflow
    generates them when it first writes airflow.cfg, which components starting at once in a fresh home
    would each do (its metadata DB is a copy of the template, so no migration wrote the file first):
    a task's token signed with the scheduler's jwt_secret was refused by the API server's ("Invalid
    auth token")."""
    return {
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }


def _wait(base: str, deadline_s: float = 120) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(base + "/api/v2/monitor/health", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"the API server at {base} did not answer within {deadline_s} s")


@contextmanager
def airflow_stack(pg_server: str, root: Path) -> Iterator[Stack]:
    """Start Airflow's three components with the demo sources; stop them and drop the databases after."""
    sys.path.insert(0, str(REPO))
    from include.demo.seed import SCRIPTS

    tag = uuid.uuid4().hex[:8]
    names = {"meta": f"ws_e2e_airflow_{tag}", "billing": f"ws_e2e_billing_{tag}", "crm": f"ws_e2e_crm_{tag}"}
    billing = _database(pg_server, names["billing"], SCRIPTS["billing"])
    crm = _database(pg_server, names["crm"], SCRIPTS["crm"])
    home, sources, warehouse = root / "airflow", root / "sources", root / "warehouse"
    home.mkdir()
    shutil.copytree(REPO / "include" / "sources", sources)
    (home / "passwords.json").write_text(json.dumps({"admin": PASSWORD}))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(home / "passwords.json"),
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__BASE_URL=base,
        AIRFLOW__API__WORKERS="1",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{base}/execution/",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="5",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="1",
        **shared_keys(),
        # Its own port for the scheduler's log server: two stacks side by side both took 8793.
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR=str(sources),
        AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI=str(warehouse),
        AIRFLOW_CONN_DEMO_BILLING=billing,
        AIRFLOW_CONN_DEMO_CRM=crm,
    )
    meta = migrated_database(pg_server, names["meta"], env)
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = meta.replace("postgresql://", "postgresql+psycopg://", 1)
    airflow = str(Path(sys.executable).with_name("airflow"))
    processes = []
    try:
        for component in ("api-server", "scheduler", "dag-processor"):
            log = open(home / f"{component}.log", "w")  # noqa: SIM115 - closed with the process
            processes.append((subprocess.Popen([airflow, component], env=env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True), log))  # fmt: skip
        _wait(base)
        stack = Stack(base, home, sources, warehouse, env)
        stack.token = stack.api("POST", "/auth/token", {"username": "admin", "password": PASSWORD})["access_token"]
        yield stack
    finally:
        _stop(processes)
        _drop(pg_server, list(names.values()))


def _stop(processes: list[tuple[subprocess.Popen[bytes], Any]], grace_s: float = 10) -> None:
    """SIGTERM each component's process group (its task runners and workers with it), SIGKILL what is
    left after `grace_s` seconds in all: nothing here needs a graceful end, and a scheduler or API
    server draining for the 30 s a wait per process allowed was most of a stack's teardown."""
    for process, _ in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for process, log in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _signal_group(process, signal.SIGKILL)  # the group's leftovers, or the process itself
        process.wait()
        log.close()


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """`sig` to the process group the component leads (it was started with start_new_session)."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"


def wait_for_dags(stack: Stack, pattern: str, count: int, what: str) -> None:
    """Until the dag-processor has registered `count` DAGs whose id matches `pattern` (2 minutes at most)."""
    deadline = time.monotonic() + 120
    while stack.api("GET", f"/api/v2/dags?dag_id_pattern={pattern}")["total_entries"] < count:
        assert time.monotonic() < deadline, f"the dag-processor did not register {what}"
        time.sleep(0.5)


@contextmanager
def signed_in_page(stack: Stack) -> Iterator[Any]:
    """Debian's chromium (Playwright drives it), signed in to Airflow's UI as admin, at 1280x800."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"{CHROMIUM} is missing: scripts/test.sh installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        tab = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
        tab.set_default_timeout(90_000)  # a loaded 2-core CI box: Airflow's UI and API answer slowly
        tab.goto(stack.base + "/")
        tab.locator("input").first.fill("admin")
        tab.locator("input[type=password]").fill(PASSWORD)
        tab.keyboard.press("Enter")
        tab.get_by_role("link", name="Sources").wait_for()
        try:
            yield tab
        finally:
            browser.close()


def shoot(page: Any, name: str) -> None:
    """Full-page screenshots in tests/artifacts/ (git-ignored): light and dark, 1280 and 390 px wide."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width, height in ((1280, 800), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(300)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{scheme}-{width}.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1280, "height": 800})


def first_sync(stack: Stack, name: str, timeout_s: float = 180) -> None:
    """Unpause `name` (the scheduler starts its due run at once) and wait until a run succeeded."""
    stack.api("POST", f"/warehouse-sources/api/sources/{name}/unpause", {})
    deadline = time.monotonic() + timeout_s
    while True:
        runs = stack.api("GET", f"/api/v2/dags/sync_{name}/dagRuns?order_by=-run_after&limit=1")["dag_runs"]
        if runs and runs[0]["state"] == "success":
            return
        assert not runs or runs[0]["state"] != "failed", f"the first sync of {name} failed"
        assert time.monotonic() < deadline, f"the first sync of {name} did not finish in {timeout_s:g} s"
        time.sleep(0.5)


@contextmanager
def sources_page(stack: Stack) -> Iterator[Any]:
    """A signed-in tab on the Sources page."""
    with signed_in_page(stack) as tab:
        tab.get_by_role("link", name="Sources").click()
        tab.get_by_role("heading", name="Sources").wait_for()
        yield tab
