"""Shared fixtures: a real PostgreSQL (the local server, else an embedded one), MySQL/MariaDB,
Snowflake as fakesnow serves it, and a warehouse dir.

Each test that needs a source gets its own database, dropped afterwards, so tests leave
nothing behind on the server.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_MYSQL = "mysql://root@127.0.0.1:3306/"

# Airflow reads its home at import: give the suite its own, never the developer's.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="ws-tests-airflow-")
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
os.environ.update(
    AIRFLOW_HOME=_AIRFLOW_HOME,
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
    AIRFLOW__CORE__UNIT_TEST_MODE="False",
)
for _key in [k for k in os.environ if k.startswith(("AIRFLOW__WAREHOUSE_SOURCES__", "AIRFLOW_CONN_"))]:
    del os.environ[_key]


def _reachable(uri: str) -> bool:
    import psycopg

    try:
        psycopg.connect(uri, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URI of the maintenance database of a real PostgreSQL server."""
    uri = os.environ.get("WS_TEST_PG_URI", DEFAULT_PG)
    if _reachable(uri):
        yield uri
        return
    sys.path.insert(0, str(REPO))
    from include.demo import embedded_pg

    datadir = tmp_path_factory.mktemp("embedded-pg")
    yield embedded_pg.start(datadir)
    embedded_pg.stop(datadir)


@pytest.fixture
def pg_db(pg_server: str) -> Iterator[str]:
    """A fresh, empty database for one test; its URI."""
    import psycopg

    name = f"ws_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_mysql_database() -> Iterator[str]:
    """A fresh, empty MySQL/MariaDB database, dropped after the block; its URI. Skips when no server answers."""
    import pymysql

    from warehouse_sources.sources.mysql import MySQLParams

    server = os.environ.get("WS_TEST_MYSQL_URI", DEFAULT_MYSQL)
    p = MySQLParams.from_uri(server)
    try:
        conn = pymysql.connect(host=p.host, port=p.port, user=p.user, password=p.password, connect_timeout=3)
    except pymysql.err.OperationalError as exc:
        pytest.skip(f"no MySQL/MariaDB server at {p.host}:{p.port} ({exc}); start one or set WS_TEST_MYSQL_URI")
    name = f"ws_test_{uuid.uuid4().hex[:10]}"
    with conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}`")
    try:
        yield server.rstrip("/") + f"/{name}"
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


@pytest.fixture
def mysql_db() -> Iterator[str]:
    """A fresh, empty MySQL/MariaDB database for one test; its URI."""
    with fresh_mysql_database() as uri:
        yield uri


@pytest.fixture(scope="session")
def fakesnow_server() -> Iterator[dict[str, Any]]:
    """Connect arguments of an in-process fakesnow server: the real connector over HTTP, the SQL run
    on DuckDB (README "Snowflake" says what this cannot show). One per process: its databases live
    in one shared in-memory DuckDB whatever the server."""
    import fakesnow

    with fakesnow.server() as kwargs:
        yield kwargs


@pytest.fixture
def sf_db(fakesnow_server: dict[str, Any]) -> dict[str, Any]:
    """The connect arguments of a fresh database (with schema ANALYTICS) for one test. It is not
    dropped: fakesnow has no DROP DATABASE, and the server's databases end with its process."""
    import snowflake.connector

    name = f"WS_TEST_{uuid.uuid4().hex[:10].upper()}"
    with snowflake.connector.connect(**fakesnow_server) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
        cursor.execute(f"CREATE SCHEMA {name}.ANALYTICS")
    return {**fakesnow_server, "database": name, "schema": "ANALYTICS"}


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    return str(tmp_path / "warehouse")


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """Airflow's metadata database (SQLite in the suite's own AIRFLOW_HOME), migrated once."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())
    return _AIRFLOW_HOME


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Any]:
    """A real S3 HTTP endpoint (moto's server, in a child process) with a bucket and a signed-in key."""
    from tests.integration import s3_support

    server = s3_support.start()
    yield server
    s3_support.stop_process(server.process)


@pytest.fixture
def s3_warehouse(s3_server: Any) -> tuple[str, dict[str, str]]:
    """A fresh warehouse root in the moto bucket and the storage options that reach it."""
    return s3_server.fresh_prefix(), s3_server.options()


_FAST = REPO / "tests" / "unit"
_SERVICE_FIXTURES = {"s3_server", "pg_server", "mysql_db", "fakesnow_server", "airflow_db"}


# The longest files (minutes each, RELIABILITY.md's slowest tests) start first: scripts/test.sh
# hands whole files to its two workers, so one started last would be the run's tail alone.
_LONGEST_FIRST = (
    "reliability/test_kill_trials.py",
    "reliability/test_kill_trials_s3.py",
    "reliability/test_differential.py",
    "integration/test_link_e2e.py",
    "integration/test_web_e2e_checks.py",
    "reliability/test_kill_trials_deletes.py",
    "reliability/test_kill_trials_mysql.py",
    "integration/test_celery_deployment.py",
    "integration/test_assets.py",
    "reliability/test_bad_inputs_bucket.py",
    "reliability/test_bad_inputs.py",
    "integration/test_query_page.py",
    "integration/test_dag_processor.py",
    "reliability/test_kill_trials_api.py",
    "integration/test_verify_cli.py",
    "integration/test_query_demo.py",
    "integration/test_bucket_s3.py",
    "integration/test_web_e2e.py",
    "integration/test_api_dags.py",
    "integration/test_hubspot_sync.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tiers by folder: everything outside tests/unit (tests/integration/web among it: Airflow's API
    app over a migrated metadata DB), and any test that starts a server, is `integration`, so
    `make test-fast` (`-m "not integration"`) runs the pure unit tests and needs no service."""
    for item in items:
        path = Path(str(item.path)).resolve()
        services = set(getattr(item, "fixturenames", ())) & _SERVICE_FIXTURES
        if not path.is_relative_to(_FAST) or services:
            item.add_marker(pytest.mark.integration)
    items.sort(key=_start_rank)  # stable: the order within a file and among the others stays


def _start_rank(item: pytest.Item) -> int:
    path = Path(str(item.path)).resolve().relative_to(REPO / "tests").as_posix()
    return _LONGEST_FIRST.index(path) if path in _LONGEST_FIRST else len(_LONGEST_FIRST)


# RELIABILITY.md (tests/reliability/report.py). These hooks live here because under pytest-xdist
# the controller collects nothing and so never loads tests/reliability/conftest.py.
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    from tests.reliability import report as reliability_report

    reliability_report.test_time(report)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    from tests.reliability import report as reliability_report

    reliability_report.node_down(node)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from tests.reliability import report as reliability_report

    reliability_report.session_finished(session, exitstatus)
