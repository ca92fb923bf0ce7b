"""SIGKILL a Stripe sync at random points, per method: every kill leaves a committed table, the next run the truth.

As tests/reliability/test_kill_trials.py does for databases, over the local Stripe (real HTTP): each
trial creates, changes and deletes customers, runs one sync in a subprocess (kill_worker_api.py) and
kills it from the after_batch hook after a random number of rows, from the before_commit hook, or from
here after a random delay. The table must then open at the version it had or the next one (a kill from
a hook: the one it had), and one normal run must make it what the method promises: incremental, the
live objects with their latest values (deleted ones kept, marked); append_only, every object a read
saw, exactly once; full_table, exactly the live objects. WS_KILL_SEED=<seed> replays a run.
"""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from tests.integration.api_fakes.stripe_fake import StripeStore, start_stripe
from tests.integration.helpers import plan
from warehouse_sources.engine.sync import SyncRequest, sync_table
from warehouse_sources.sources.stripe import open_stripe

pytestmark = pytest.mark.integration
WORKER = Path(__file__).with_name("kill_worker_api.py")
TRIALS = int(os.environ.get("WS_API_KILL_TRIALS", "20"))
KEYS = {"incremental": "changed_at", "append_only": "created", "full_table": None}
LOG = logging.getLogger("warehouse_sources.tests.kill_api")


def change(store: StripeStore, rng: random.Random, clock: list[int], created: list[str]) -> None:
    """A few creations, changes and deletions, a second or so apart (several in one second at times)."""
    for _ in range(rng.randrange(20, 400)):
        clock[0] += rng.choice((0, 0, 1))
        live = list(store.objects.get("customers", {}))
        roll = rng.random()
        if roll < 0.6 or not live:
            created.append(store.create("customers", clock[0], name=f"n{clock[0]}", email=None)["id"])
        elif roll < 0.9:
            store.update("customers", rng.choice(live), clock[0], name=f"u{clock[0]}")
        else:
            store.delete("customers", rng.choice(live), clock[0])


def run_worker(job: dict[str, Any], kill_after: float | None) -> int:
    env = {**os.environ, "PYTHONPATH": ""}
    process = subprocess.Popen([sys.executable, str(WORKER), json.dumps(job)], stdout=subprocess.PIPE, text=True,
                               env=env)  # fmt: skip
    assert process.stdout is not None
    process.stdout.readline()  # "ready": imports done
    if kill_after is not None:
        time.sleep(kill_after)
        process.kill()
    return process.wait(timeout=300)


def table_rows(warehouse: str) -> list[dict[str, Any]]:
    return DeltaTable(f"{warehouse}/items").to_pyarrow_table().to_pylist()


def check(method: str, store: StripeStore, warehouse: str, created: list[str], where: str) -> None:
    rows = table_rows(warehouse)
    live = {i: o["name"] for i, o in store.objects["customers"].items()}
    if method == "append_only":
        ids = [r["id"] for r in rows]  # objects deleted before any read saw them are not there
        assert len(ids) == len(set(ids)) and set(live) <= set(ids) <= set(created), f"{where}: each object once"
        return
    kept = {r["id"]: r["name"] for r in rows if not r.get("_ws_deleted_at")}
    assert kept == live, f"{where}: {method} must equal the live objects"
    assert len(rows) == len({r["id"] for r in rows}), f"{where}: one row per id"


@pytest.mark.parametrize("method", ["incremental", "append_only", "full_table"])
def test_kills_at_random_points_leave_a_committed_table_and_the_next_run_the_truth(method: str, tmp_path: Path) -> None:
    seed = int(os.environ.get("WS_KILL_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    api, store = start_stripe()
    warehouse = str(tmp_path / "warehouse")
    clock = [int((datetime.now(UTC) - timedelta(days=2)).timestamp())]
    created: list[str] = []
    table = plan("customers", method, schema="", synced_name="items", replication_key=KEYS[method])
    try:
        change(store, rng, clock, created)
        with open_stripe(api.url, store.key, source="kill", budget=10) as reader:
            sync_table(reader, SyncRequest(table=table, warehouse_uri=warehouse, run_id="first"), LOG)
        for trial in range(TRIALS):
            where = f"seed {seed}, {method}, trial {trial}"
            change(store, rng, clock, created)
            before = DeltaTable(f"{warehouse}/items").version()
            how = rng.choice(("rows", "commit", "time"))
            kill = {"after_rows": rng.randrange(1, 400)} if how == "rows" else (
                {"before_commit": True} if how == "commit" else {"none": True})  # fmt: skip
            job = {"url": api.url, "key": store.key, "warehouse": warehouse, "method": method, "kill": kill}
            run_worker(job, rng.uniform(0, 1.5) if how == "time" else None)
            after = DeltaTable(f"{warehouse}/items").version()
            allowed = {before} if how != "time" else {before, before + 1}
            assert after in allowed or (how == "rows" and after == before + 1), f"{where}: version {before}->{after}"
            with open_stripe(api.url, store.key, source="kill", budget=10) as reader:
                sync_table(reader, SyncRequest(table=table, warehouse_uri=warehouse, run_id="next"), LOG)
            check(method, store, warehouse, created, where)
    finally:
        api.stop()
