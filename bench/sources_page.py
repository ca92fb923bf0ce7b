"""Server time of the Sources page's data with 200 sources x 20 tables (README: Sources page).

    .venv/bin/python bench/sources_page.py [--sources 200] [--tables 20] [--runs 3] [--server URI]

Builds a throwaway Airflow metadata database on the PostgreSQL server, generates the source
files, serializes their DAGs with `airflow dags reserialize`, creates runs through Airflow's own
trigger API (the latest run of every 4th source failed, of every 10th still running, with the
error XCom a failed task leaves), then times the plugin's routes in-process through Airflow's
API app: the list (`GET /warehouse-sources/api/sources`, the page's data) and one source's detail.
The limit is 0.5 s for the list.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIMIT_S = 0.5


def write_sources(folder: Path, sources: int, tables: int) -> None:
    folder.mkdir(parents=True)
    for s in range(sources):
        rows = "".join(
            f"  - name: public.t{t}\n    sync: incremental\n    replication_key: updated_at\n    primary_key: [id]\n"
            for t in range(tables)
        )
        head = f"name: src{s:03d}\nkind: postgres\nconn_id: bench_pg\nschedule: 1h\ntable_prefix: s{s:03d}_\n"
        (folder / f"src{s:03d}.yaml").write_text(f"{head}tables:\n{rows}")


def make_runs(sources: int, tables: int, runs: int) -> None:
    """Runs through Airflow's trigger API, then states and XComs as the scheduler and tasks leave them."""
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunTriggeredByType
    from sqlalchemy import update

    for s in range(sources):
        dag_id = f"sync_src{s:03d}"
        for r in range(runs):
            with create_session() as session:
                run = trigger_dag(dag_id, triggered_by=DagRunTriggeredByType.TEST, run_id=f"bench_{r}", session=session)
                assert run is not None
                last = r == runs - 1
                state = "running" if last and s % 10 == 0 else "failed" if last and s % 4 == 0 else "success"
                session.execute(update(DagRun).where(DagRun.id == run.id).values(state=state))
                ti_state = {"running": "running", "failed": "failed", "success": "success"}[state]
                session.execute(
                    update(TaskInstance)
                    .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id)
                    .values(state=ti_state)
                )
                for t in range(tables):
                    task_id = f"s{s:03d}_t{t}"
                    value = {
                        "rows": 1000 + t,
                        "write": "merge",
                        "version": r,
                        "cursor": None,
                        "null_keys": 0,
                        "seconds": 0.5,
                    }
                    XComModel.set(
                        "return_value", value, dag_id=dag_id, task_id=task_id, run_id=run.run_id, session=session
                    )
                if state == "failed":
                    XComModel.set("warehouse_sources_error", "source is unreachable", dag_id=dag_id,
                                  task_id=f"s{s:03d}_t0", run_id=run.run_id, session=session)  # fmt: skip


def timed(client: object, url: str, headers: dict[str, str], repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = client.get(url, headers=headers)  # type: ignore[attr-defined]
        seconds.append(time.perf_counter() - start)
        assert answer.status_code == 200, answer.text[:500]
    return seconds


def measure(sources: int, repeat: int) -> dict[str, object]:
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    with TestClient(create_app("core")) as client:
        jwt = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="admin", role="admin"))
        headers = {"Authorization": f"Bearer {jwt}"}
        first = timed(client, "/warehouse-sources/api/sources", headers, 1)[0]
        listed = timed(client, "/warehouse-sources/api/sources", headers, repeat)
        body = client.get("/warehouse-sources/api/sources", headers=headers).json()
        assert len(body["sources"]) == sources, len(body["sources"])
        detail = timed(client, "/warehouse-sources/api/sources/src000", headers, repeat)
    return {
        "list_first_s": round(first, 4),
        "list_median_s": round(statistics.median(listed), 4),
        "list_max_s": round(max(listed), 4),
        "detail_median_s": round(statistics.median(detail), 4),
        "statuses": {
            s: sum(1 for x in body["sources"] if x["status"] == s) for s in {x["status"] for x in body["sources"]}
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--tables", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--server", default=os.environ.get("WS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    args = parser.parse_args()
    import psycopg

    work = Path(tempfile.mkdtemp(prefix="ws-bench-page-"))
    database = f"ws_bench_page_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    meta = args.server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{database}"
    os.environ.update(
        AIRFLOW_HOME=str(work / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"), AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=meta,
        AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR=str(work / "sources"),
        AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI=str(work / "warehouse"),
    )  # fmt: skip
    try:
        write_sources(work / "sources", args.sources, args.tables)
        airflow = str(Path(sys.executable).with_name("airflow"))
        start = time.perf_counter()
        subprocess.run([airflow, "db", "migrate"], check=True, capture_output=True)
        subprocess.run([airflow, "dags", "reserialize"], check=True, capture_output=True)
        make_runs(args.sources, args.tables, args.runs)
        print(f"setup: {time.perf_counter() - start:.1f} s", file=sys.stderr)
        result = measure(args.sources, args.repeat)
    finally:
        with psycopg.connect(args.server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    result.update(sources=args.sources, tables=args.tables, runs_per_source=args.runs, limit_s=LIMIT_S)
    print(json.dumps(result, indent=2))
    return 0 if result["list_median_s"] < LIMIT_S else 1  # type: ignore[operator]


if __name__ == "__main__":
    sys.exit(main())
