"""A real CeleryExecutor deployment on localhost: what docker/docker-compose.yaml runs, from the
machine's own services instead of containers.

Redis is the broker (a database number of its own, claimed for the run, and a queue of its own),
PostgreSQL holds Airflow's metadata (a fresh database, dropped after) and the demo's sources, moto's
S3 server is the warehouse. The api-server, scheduler and dag-processor run as in the browser tests
(tests/integration/web_stack.py); two `airflow celery worker` processes stand for two machines:
each has its own Celery hostname, and its tasks report its own host name (`worker_hostname`).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.integration.web_stack import (
    PASSWORD,
    REPO,
    Stack,
    _database,
    _drop,
    _wait,
    free_port,
    migrated_database,
    shared_keys,
)

REDIS = ("127.0.0.1", 6379)
CLAIM_KEY = "warehouse-sources-test-claim"
WORKERS = ("worker-a.test", "worker-b.test")
WAREHOUSE_CONN = "ws_warehouse"
EVENT_DAYS = 3
# The deployment's cluster policy: retries 2 s apart instead of the DAGs' minute, so the retry after
# a worker's death does not hold the test for a minute. Nothing else of the DAGs changes.
LOCAL_SETTINGS = """
import datetime


def task_policy(task):
    task.retry_delay = datetime.timedelta(seconds=2)
"""


def worker_hostname() -> str:
    """`[core] hostname_callable` of the test's workers: on one machine both would report the same
    name, so each reports the one its own container would have."""
    return os.environ["WS_TEST_WORKER_HOSTNAME"]


@dataclass
class Deployment:
    stack: Stack
    billing: str
    crm: str
    events: Path
    warehouse: str
    options: dict[str, str]
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def kill_worker(self, hostname: str) -> None:
        """SIGKILL a worker and everything under it (its pool, task supervisors and tasks, which
        run in process groups of their own): what a machine that dies leaves behind."""
        import psutil

        process = self.workers[hostname]
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
        for member in tree:
            try:
                member.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                continue
        process.wait(timeout=10)
        psutil.wait_procs(tree, timeout=10)


@contextmanager
def redis_database() -> Iterator[int]:
    """A Redis database number (1-15) claimed for this run alone, emptied after; skips without Redis."""
    import pytest
    import redis

    host, port = REDIS
    try:
        redis.Redis(host=host, port=port, socket_connect_timeout=3).ping()
    except redis.exceptions.RedisError as exc:
        pytest.skip(f"no Redis at {host}:{port} ({exc}): the Celery deployment test needs one as its broker")
    tag = uuid.uuid4().hex
    for number in random.sample(range(1, 16), 15):
        client = redis.Redis(host=host, port=port, db=number)
        if not client.set(CLAIM_KEY, tag, nx=True, ex=3600):
            continue
        if client.dbsize() != 1:  # someone else's keys: not ours to use or flush
            client.delete(CLAIM_KEY)
            continue
        try:
            yield number
        finally:
            client.flushdb()
        return
    pytest.skip(f"every Redis database 1-15 at {host}:{port} holds keys: free one for the Celery test")


def _sources(root: Path, events: Path) -> Path:
    """The demo's source files, the events source pointed at this run's folder."""
    sources = root / "sources"
    shutil.copytree(REPO / "include" / "sources", sources)
    events_file = sources / "events.yaml"
    text = re.sub(r"^url: .*$", f"url: {events.as_uri()}/", events_file.read_text(), flags=re.M)
    events_file.write_text(text)
    return sources


def _write_events(pg_server: str, billing: str, crm: str, out: Path) -> None:
    from include.demo import events

    people = events.load_people(pg_server, billing, crm, seed=7)
    for day, found in events.generate(7, people, datetime.now(UTC).date(), EVENT_DAYS):
        events.write_day(out, day, found, "jsonl")


def _env(home: Path, port: int, meta: str, broker: str, queue: str) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        AIRFLOW__CORE__PARALLELISM="8",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(home / "passwords.json"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=meta.replace("postgresql://", "postgresql+psycopg://", 1),
        AIRFLOW__CELERY__BROKER_URL=broker,
        AIRFLOW__CELERY__WORKER_CONCURRENCY="2",
        AIRFLOW__CELERY__SYNC_PARALLELISM="1",
        AIRFLOW__OPERATORS__DEFAULT_QUEUE=queue,
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__BASE_URL=base,
        AIRFLOW__API__WORKERS="1",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{base}/execution/",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="5",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="1",
        # A dead worker's task is failed (and retried) 20 s after its last heartbeat, not 300; a live
        # one heartbeats every 2 s.
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT="20",
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL="2",
        AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL="2",
        **shared_keys(),
    )
    return env


def _start(home: Path, name: str, argv: list[str], env: dict[str, str], stack: ExitStack) -> subprocess.Popen[bytes]:
    log = stack.enter_context(open(home / f"{name}.log", "wb"))  # noqa: SIM115 - closed by the stack
    return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to every component at once, then SIGKILL for whatever of their trees is left (task
    processes run in process groups of their own)."""
    import psutil

    tree = []
    for process in processes:
        try:
            tree += [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
            os.killpg(process.pid, signal.SIGTERM)
        except (psutil.NoSuchProcess, ProcessLookupError):
            continue
    _, alive = psutil.wait_procs(tree, timeout=5)
    for member in alive:
        member.kill()
    for process in processes:
        process.wait()


def _wait_workers(home: Path, deadline_s: float = 120) -> None:
    end = time.monotonic() + deadline_s
    for name in WORKERS:
        while b" ready." not in (home / f"{name}.log").read_bytes():
            if time.monotonic() > end:
                raise TimeoutError(f"celery worker {name} was not ready in {deadline_s:g} s: see {home}/{name}.log")
            time.sleep(0.5)


def _wait_dags(stack: Stack, count: int, deadline_s: float = 120) -> None:
    end = time.monotonic() + deadline_s
    while stack.api("GET", "/api/v2/dags?dag_id_pattern=sync_")["total_entries"] < count:
        if time.monotonic() > end:
            raise TimeoutError(f"the dag-processor did not register {count} demo DAGs in {deadline_s:g} s")
        time.sleep(1)


def _start_all(home: Path, env: dict[str, str], cleanup: ExitStack) -> dict[str, subprocess.Popen[bytes]]:
    """The api-server, scheduler and dag-processor, then the two workers (returned by host name)."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    processes: list[subprocess.Popen[bytes]] = []
    cleanup.callback(_stop, processes)
    for component in ("api-server", "scheduler", "dag-processor"):
        processes.append(_start(home, component, [airflow, component], env, cleanup))
    workers = {}
    for hostname in WORKERS:
        argv = [airflow, "celery", "worker", "--celery-hostname", f"{hostname}@%h", "--skip-serve-logs",
                "--pid", str(home / f"{hostname}.pid"), "--without-mingle", "--without-gossip"]  # fmt: skip
        worker_env = {**env, "WS_TEST_WORKER_HOSTNAME": hostname,
                      "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname"}  # fmt: skip
        workers[hostname] = _start(home, hostname, argv, worker_env, cleanup)
        processes.append(workers[hostname])
    return workers


def _home(root: Path) -> Path:
    home = root / "airflow"
    (home / "config").mkdir(parents=True)
    (home / "passwords.json").write_text(json.dumps({"admin": PASSWORD}))
    (home / "config" / "airflow_local_settings.py").write_text(LOCAL_SETTINGS)
    return home


@contextmanager
def celery_deployment(pg_server: str, s3_server: Any, root: Path) -> Iterator[Deployment]:
    """Start the whole deployment with the demo's sources; stop it and drop every database after."""
    sys.path.insert(0, str(REPO))
    from include.demo.seed import SCRIPTS

    tag = uuid.uuid4().hex[:8]
    names = {"meta": f"ws_celery_airflow_{tag}", "billing": f"ws_celery_billing_{tag}", "crm": f"ws_celery_crm_{tag}"}
    home, events, port = _home(root), root / "events", free_port()
    with redis_database() as redis_db, ExitStack() as cleanup:
        cleanup.callback(_drop, pg_server, list(names.values()))
        meta = pg_server.rsplit("/", 1)[0] + f"/{names['meta']}"
        env = _env(home, port, meta, f"redis://{REDIS[0]}:{REDIS[1]}/{redis_db}", f"ws-test-{tag}")
        migrated_database(pg_server, names["meta"], env)  # a copy of the process's migrated template
        billing = _database(pg_server, names["billing"], SCRIPTS["billing"])
        crm = _database(pg_server, names["crm"], SCRIPTS["crm"])
        _write_events(pg_server, names["billing"], names["crm"], events)
        warehouse = s3_server.fresh_prefix()
        env.update(s3_server.connection_env(WAREHOUSE_CONN), AIRFLOW_CONN_DEMO_BILLING=billing,
                   AIRFLOW_CONN_DEMO_CRM=crm, AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR=str(_sources(root, events)),
                   AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI=warehouse,
                   AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_CONN_ID=WAREHOUSE_CONN)  # fmt: skip
        stack = Stack(f"http://127.0.0.1:{port}", home, root / "sources", Path(), env)
        workers = _start_all(home, env, cleanup)
        deployment = Deployment(stack, billing, crm, events, warehouse, s3_server.options(), workers)
        _wait(stack.base)
        stack.token = stack.api("POST", "/auth/token", {"username": "admin", "password": PASSWORD})["access_token"]
        _wait_workers(home)
        _wait_dags(stack, 3)
        yield deployment
