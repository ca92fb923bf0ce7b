"""The DAG files as Airflow's real DAG processor records them, not only as a DagBag sees them.

Airflow 3.3 marks every DAG of a file that raised an import error as stale (no schedule, no
trigger, the plugin's actions refused), so one broken source file must not be an import error
of the file that defines the valid sources' DAGs.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SOURCE = (
    "name: {name}\nkind: postgres\nconn_id: {name}_pg\nschedule: 6h\n"
    "tables:\n  - {{name: public.{name}_t, sync: full_table}}\n"
)


def _airflow(env: dict[str, str], *args: str) -> None:
    airflow = str(Path(sys.executable).with_name("airflow"))
    done = subprocess.run([airflow, *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture
def home(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    """A throwaway AIRFLOW_HOME on SQLite with the repo's DAG files and its own sources_dir."""
    sources = tmp_path / "sources"
    sources.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR=str(sources),
        AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI=str(tmp_path / "warehouse"),
    )
    _airflow(env, "db", "migrate")
    return env, sources, tmp_path / "airflow" / "airflow.db"


EXAMPLE = {"example_billing_charges_downstream": (False, False)}  # dags/warehouse_sources_example_downstream.py


def _parse_once(env: dict[str, str]) -> None:
    _airflow(env, "dag-processor", "--num-runs", "1")


def _dags(db: Path) -> dict[str, tuple[bool, bool]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT dag_id, is_stale, has_import_errors FROM dag").fetchall()
    return {dag_id: (bool(stale), bool(errors)) for dag_id, stale, errors in rows}


def _import_errors(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT filename, stacktrace FROM import_error").fetchall())


def test_one_broken_file_among_three_leaves_the_other_dags_active(home: tuple[dict[str, str], Path, Path]) -> None:
    env, sources, db = home
    for name in ("alpha", "beta", "gamma"):
        (sources / f"{name}.yaml").write_text(SOURCE.format(name=name))
    _parse_once(env)
    assert _dags(db) == {f"sync_{n}": (False, False) for n in ("alpha", "beta", "gamma")} | EXAMPLE
    assert _import_errors(db) == {}

    (sources / "beta.yaml").write_text(SOURCE.format(name="beta") + "owner_note: typo\n")
    _parse_once(env)
    dags = _dags(db)
    assert dags["sync_alpha"] == (False, False)
    assert dags["sync_gamma"] == (False, False)
    (where, message), *others = _import_errors(db).items()
    assert not others
    assert where == "warehouse_sources_config_errors.py"
    assert "beta.yaml: owner_note: unknown key" in message
    assert "alpha.yaml" not in message

    (sources / "beta.yaml").write_text(SOURCE.format(name="beta"))
    _parse_once(env)
    assert _import_errors(db) == {}, "a fixed file clears its import error at the next parse"
    assert _dags(db) == {f"sync_{n}": (False, False) for n in ("alpha", "beta", "gamma")} | EXAMPLE
