"""One sync in its own process, for the kill trials (tests/reliability/kill_trials.py runs it).

Each trial's sync is a child forked from a "zygote" (`python tests/reliability/kill_worker.py
--zygote`, started once per module by kill_support.Zygote): the zygote imports what a worker needs
(deltalake, pyarrow, pandas, the drivers, the engine) without using any of it, with no thread
running (it checks), then forks one child per request, which runs main() with its own phase file and
its output in its own file. A trial's process used to be a fresh interpreter paying ~1.2-2.4 s of
imports; now "boot" is marked right after the fork, so the startup a random-time kill can land in is
the fork and the child's first steps, and "ready" still means every import is done.
`python tests/reliability/kill_worker.py '<json>'` still runs one sync alone (for debugging).

The zygote's protocol, one line each way per trial: it reads `{"args": {...}, "output": path}`
from stdin, writes `pid <pid>` once the child runs and `exit <status>` once it ended (status as
subprocess gives it: the exit code, or minus the signal that killed it). It reaps a child only when
the next request (or the end of stdin) comes, so that the pid the parent may still SIGKILL is never
another process's. The child's arguments are main()'s:

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


def preload() -> None:
    """What the engine imports lazily, so that "ready" means the imports are done (in the zygote:
    imported once, before any fork)."""
    sys.path.insert(0, str(REPO))
    import deltalake  # noqa: F401
    import pandas  # noqa: F401  (pyarrow imports it on the first Python value it converts: ~0.5 s)
    import pyarrow  # noqa: F401

    import warehouse_sources.engine.sync  # noqa: F401


def main(args: dict) -> int:
    phases = Phases(args["phase_file"])
    phases.mark("boot")
    import logging

    preload()
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


# Every kind's reader, for the zygote (a worker imports only its own kind's: see open_reader).
READER_MODULES = (
    "adbc_driver_manager", "adbc_driver_postgresql", "warehouse_sources.sources.postgres",
    "pymysql", "warehouse_sources.sources.mysql",
    "httpx", "warehouse_sources.sources.stripe", "warehouse_sources.sources.hubspot",
)  # fmt: skip


def threads() -> list[str]:
    """This process's threads by name (Python's and native ones alike)."""
    return [Path(f"/proc/self/task/{t}/comm").read_text().strip() for t in sorted(os.listdir("/proc/self/task"))]


def zygote() -> int:
    """Import everything, then fork one worker per request line on stdin (the protocol: see above)."""
    import importlib

    preload()
    for name in READER_MODULES:
        importlib.import_module(name)
    # Forking a process that runs other threads copies their locks, not the threads: a child could
    # wait forever on a lock held at the fork. Kill_support starts the zygote with the allocators'
    # and OpenBLAS's background threads turned off; anything else that starts one is refused here.
    running = threads()
    if len(running) != 1:
        sys.stderr.write(f"kill_worker zygote: threads running after the imports, cannot fork: {running}\n")
        return 2
    os.write(1, b"ready\n")
    child = None
    for line in sys.stdin:
        if child is not None:
            os.waitpid(child, 0)  # the zombie kept the pid reserved until the parent moved on
        request = json.loads(line)
        child = os.fork()
        if child == 0:
            run_child(request["args"], request["output"])
        os.write(1, f"pid {child}\n".encode())
        ended = os.waitid(os.P_PID, child, os.WEXITED | os.WNOWAIT)
        assert ended is not None
        status = ended.si_status if ended.si_code == os.CLD_EXITED else -ended.si_status
        os.write(1, f"exit {status}\n".encode())
    if child is not None:
        os.waitpid(child, 0)
    return 0


def run_child(args: dict, output: str) -> None:
    """In the forked child: stdin from /dev/null, stdout and stderr to `output`, then main(); never returns."""
    import traceback

    code = 1
    try:
        out = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        os.close(null)
        code = main(args)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    sys.exit(zygote() if sys.argv[1] == "--zygote" else main(json.loads(sys.argv[1])))
