"""A chunked full load with one range's process SIGKILLed mid-read (engine/chunks.py).

Each range runs in a process of its own, as a worker runs a mapped task instance: the plan first,
then ranges 0 and 2 side by side and range 1 killed while it streams, then range 1 again (Airflow's
retry of that task instance alone). Until the commit the warehouse has no table at all; the commit
refuses a load missing a range; after it the table equals the source, references none of the killed
attempt's files, and a full vacuum clears the files of a load that never committed.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.integration.helpers import plan, sql, synced_rows
from tests.reliability.kill_support import data_files, kill_after_phase, read_phases, worker_env

pytestmark = pytest.mark.integration
LOG = logging.getLogger("warehouse_sources.tests.kill_chunks")
ROWS = 30_000
TABLE = (
    "CREATE TABLE t (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, name text)",
    f"INSERT INTO t SELECT g, '2026-01-01'::timestamptz + g * interval '1 second', repeat('x', 40) || g "
    f"FROM generate_series(1, {ROWS}) g",
)
WORKER = """
import json, sys, time, logging
from warehouse_sources.engine.chunks import load_chunk
from warehouse_sources.engine.progress import SyncHooks
from warehouse_sources.engine.sync import SyncRequest
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.postgres import PostgresReader
args = json.loads(sys.argv[1])
request = SyncRequest(table=TablePlan(**args["plan"]), warehouse_uri=args["warehouse"], run_id="kill")
def after_batch(rows):
    with open(args["phases"], "a") as marks:
        marks.write(f"batch {time.time()}\\n")
    time.sleep(args["pause"])
with PostgresReader(args["uri"], batch_bytes=64 * 1024) as reader:
    staged = load_chunk(reader, request, args["chunk"], logging.getLogger("w"), SyncHooks(after_batch=after_batch))
print(json.dumps(staged))
"""


def start(uri: str, warehouse: str, table: Any, chunk: dict[str, Any], tmp: Path, pause: float) -> Any:
    from dataclasses import asdict

    args = {"uri": uri, "warehouse": warehouse, "plan": asdict(table), "chunk": chunk, "pause": pause,
            "phases": str(tmp / f"phases-{chunk['index']}-{pause}.txt")}  # fmt: skip
    env = worker_env(tmp / "pycache") | {"PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")])}
    proc = subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=REPO)  # fmt: skip
    return proc, Path(args["phases"])


def staged(proc: Any) -> dict[str, Any]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-3000:]
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


def test_a_killed_range_retries_alone_and_nothing_shows_before_the_one_commit(pg_db: str, tmp_path: Path) -> None:
    from deltalake import DeltaTable

    from warehouse_sources.engine.chunk_plan import plan_load
    from warehouse_sources.engine.chunks import commit_load, load_chunk
    from warehouse_sources.engine.sync import SyncRequest
    from warehouse_sources.errors import SyncFatalError
    from warehouse_sources.sources.postgres import PostgresReader
    from warehouse_sources.warehouse.delta import open_table

    sql(pg_db, *TABLE)
    warehouse = str(tmp_path / "warehouse")
    table = plan("t", "incremental", replication_key="updated_at", parallelism=3)
    request = SyncRequest(table=table, warehouse_uri=warehouse, run_id="kill")
    with PostgresReader(pg_db) as reader:
        planned = plan_load(reader, request, LOG)
    assert len(planned) == 3

    others = [start(pg_db, warehouse, table, planned[i], tmp_path, 0.0) for i in (0, 2)]
    victim, marks = start(pg_db, warehouse, table, planned[1], tmp_path, 0.05)
    assert kill_after_phase(victim, marks, ("batch", 0.1)) == -9
    assert read_phases(marks), "range 1 was killed before it read a batch"
    loaded = {i: staged(proc) for i, (proc, _) in zip((0, 2), others, strict=True)}
    assert open_table(f"{warehouse}/t") is None  # the killed range and the two staged ones: no table yet

    with pytest.raises(SyncFatalError, match="ranges \\[0, 2\\] were staged"):
        commit_load(request, planned, [loaded[0], loaded[2]], LOG)  # the cursor moves only with every range
    assert open_table(f"{warehouse}/t") is None

    retry, _ = start(pg_db, warehouse, table, planned[1], tmp_path, 0.0)
    loaded[1] = staged(retry)
    result = commit_load(request, planned, [loaded[i] for i in range(3)], LOG)
    assert (result.rows, result.version, result.cursor) == (ROWS, 0, "2026-01-01T08:20:00+00:00")
    assert sorted(r["id"] for r in synced_rows(warehouse, "t")) == list(range(1, ROWS + 1))
    referenced = {a["path"] for c in loaded.values() for a in c["adds"]}
    assert referenced == data_files(f"{warehouse}/t")  # the retry cleared what the killed attempt wrote

    # A load that never commits (its plan and one range, then nothing) leaves files no version lists;
    # a full vacuum (maintenance's orphan sweep) removes them and the table reads on.
    with PostgresReader(pg_db) as reader:
        abandoned = plan_load(reader, SyncRequest(table=table, warehouse_uri=warehouse, full_refresh=True,
                                                  run_id="abandoned"), LOG)  # fmt: skip
    with PostgresReader(pg_db) as reader:
        load_chunk(reader, request, abandoned[0], LOG)
    assert data_files(f"{warehouse}/t") > referenced
    DeltaTable(f"{warehouse}/t").vacuum(retention_hours=0, enforce_retention_duration=False, full=True, dry_run=False)
    assert data_files(f"{warehouse}/t") == referenced
    assert DeltaTable(f"{warehouse}/t").count() == ROWS
