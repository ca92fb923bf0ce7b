"""An Airflow API server app in-process (TestClient) with the demo sources serialized into its DB."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
USERS = "admin:admin,viewer:viewer,editor:user"


@pytest.fixture(scope="module")
def web_env(airflow_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A writable copy of the demo sources, an empty warehouse, and their DAGs in Airflow's DB."""
    root = tmp_path_factory.mktemp("web")
    sources, warehouse = root / "sources", root / "warehouse"
    # The two database sources; the events bucket source (events.yaml) is tested with the query layer.
    shutil.copytree(REPO / "include" / "sources", sources, ignore=shutil.ignore_patterns("events.yaml"))
    env = {
        "AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR": str(sources),
        "AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI": str(warehouse),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": USERS,
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        airflow = Path(sys.executable).with_name("airflow")
        subprocess.run([str(airflow), "dags", "reserialize"], check=True, capture_output=True, env=os.environ.copy())
        yield {"sources": sources, "warehouse": warehouse}


@pytest.fixture(scope="module")
def client(web_env: dict[str, Path]) -> Iterator[Any]:
    """Airflow's own API app (so the plugin is mounted the way the API server mounts it)."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    with TestClient(create_app("core")) as test_client:
        yield test_client


def token(username: str, role: str) -> str:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=username, role=role))


@pytest.fixture(scope="module")
def admin(client: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token('admin', 'admin')}"}


@pytest.fixture(scope="module")
def viewer(client: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token('viewer', 'viewer')}"}


@pytest.fixture(scope="module")
def airflow_state_restored(client: Any) -> Iterator[None]:
    """Leave Airflow's DB (shared by the modules of a session) as the module found it: the DAGs'
    paused flags, the `warehouse_sources.*` Variables and no new DAG runs."""
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import delete, func, select, update

    prefix = "warehouse_sources."
    with create_session() as session:
        paused = dict(session.execute(select(DagModel.dag_id, DagModel.is_paused)).all())
        variables = {v.key: v.val for v in session.scalars(select(Variable).where(Variable.key.startswith(prefix)))}
        last_run = session.scalar(select(func.max(DagRun.id))) or 0
    yield
    with create_session() as session:
        session.execute(delete(DagRun).where(DagRun.id > last_run))
        for dag_id, was_paused in paused.items():
            session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(is_paused=was_paused))
        session.execute(delete(Variable).where(Variable.key.startswith(prefix)))
    for key, value in variables.items():
        Variable.set(key, value)


@pytest.fixture(scope="module")
def api_server_context() -> Iterator[None]:
    """Connections are read as the API server reads them: its entry point (airflow/api_fastapi/main.py)
    marks the process a server, whose secrets chain includes Airflow's metadata DB."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("_AIRFLOW_PROCESS_CONTEXT", "server")
        yield
