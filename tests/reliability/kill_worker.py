"""One sync in its own process, for the kill trials (tests/reliability/kill_trials.py runs it).

Run as `python tests/reliability/kill_worker.py '<json>'` with keys:
  db, warehouse, method, replication_key (or null), schema, table, synced_name, batch_bytes,
  storage_options: delta-rs options for an s3:// warehouse (or null),
  deletes: the incremental table's deletes mode ("none" by default, "hard", "soft"),
  kind: the source kind, "postgres" (the default; db is a libpq URI), "mysql" (db is a mysql:// URI),
      "stripe" or "hubspot" (db is the fake API's base URL, key its secret key or token),
  phase_file: a file the worker appends "<phase> <unix time> [rows]" lines to, unbuffered, so
      the parent knows how far a killed run got: boot, ready (imports done), batch (one line per
      batch read), commit (all rows handed to the writer), done (sync_table returned);
  kill: {"after_rows": N}  SIGKILL itself from the after_batch hook once N rows were read,
        {"before_commit": true}  SIGKILL itself from the before_commit hook,
        {"none": true}  a normal run (the parent may kill it at a random time).
Exit status 0 after a normal run; -9 (killed) otherwise.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


class Phases:
    """Appends phase lines with os.write: they reach the kernel before any SIGKILL can land."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def mark(self, phase: str, rows: int | None = None) -> None:
        line = f"{phase} {time.time():.6f}" + (f" {rows}" if rows is not None else "") + "\n"
        os.write(self._fd, line.encode())


def die(phases: Phases, phase: str, rows: int | None = None) -> None:
    phases.mark(phase, rows)
    os.kill(os.getpid(), signal.SIGKILL)


def open_reader(args: dict) -> Any:
    """The kind's reader, its driver imported now (the engine imports some lazily), so that "ready"
    means the imports are done; only this kind's modules, so a worker starts as fast as it can."""
    kind = args.get("kind", "postgres")
    if kind == "mysql":
        import pymysql  # noqa: F401

        from warehouse_sources.sources.mysql import MySQLReader

        return MySQLReader(args["db"], batch_bytes=int(args["batch_bytes"]))
    if kind in ("stripe", "hubspot"):
        import httpx  # noqa: F401

        from warehouse_sources.sources.hubspot import open_hubspot
        from warehouse_sources.sources.stripe import open_stripe

        opener = open_stripe if kind == "stripe" else open_hubspot
        return opener(args["db"], args["key"], source="kill", budget=10)
    import adbc_driver_manager  # noqa: F401
    import adbc_driver_postgresql  # noqa: F401

    from warehouse_sources.sources.postgres import PostgresReader

    return PostgresReader(args["db"], batch_bytes=int(args["batch_bytes"]))


def main(args: dict) -> int:
    phases = Phases(args["phase_file"])
    phases.mark("boot")
    sys.path.insert(0, str(REPO))
    import logging

    # What the engine imports lazily, so that "ready" means the imports are done.
    import deltalake  # noqa: F401
    import pandas  # noqa: F401  (pyarrow imports it on the first Python value it converts: ~0.5 s)
    import pyarrow  # noqa: F401

    from warehouse_sources.engine.progress import SyncHooks
    from warehouse_sources.engine.sync import SyncRequest, sync_table
    from warehouse_sources.plan import TablePlan

    reader = open_reader(args)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    plan = TablePlan(
        source_name="src",
        schema=args["schema"],
        table=args["table"],
        synced_name=args["synced_name"],
        method=args["method"],
        replication_key=args.get("replication_key"),
        primary_key=None,
        lookback=None,
        enabled=True,
        deletes=args.get("deletes", "none"),
    )
    kill = args["kill"]
    after_rows = kill.get("after_rows")

    def after_batch(rows: int) -> None:
        if after_rows is not None and rows >= after_rows:
            die(phases, "batch", rows)
        phases.mark("batch", rows)

    def before_commit() -> None:
        if kill.get("before_commit"):
            die(phases, "commit")
        phases.mark("commit")

    phases.mark("ready")
    request = SyncRequest(
        table=plan, warehouse_uri=args["warehouse"], storage_options=args.get("storage_options"), run_id="kill-trial"
    )
    with reader:
        result = sync_table(reader, request, logging.getLogger("kill_worker"), SyncHooks(after_batch, before_commit))
    phases.mark("done", result.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
