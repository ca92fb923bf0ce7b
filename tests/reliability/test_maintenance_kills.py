"""SIGKILL of a process in the middle of table maintenance: compaction and clean-up, on local disk
and on S3 (moto's server).

Each trial copies a prepared table, starts maintenance in a child process and kills it at a
random moment after the child signals that the step begins (clean-up, which takes milliseconds,
kills itself as soon as its first file is gone). Whatever the moment, the table still
reads at its version with every row, and the next maintenance pass finishes the job.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from pyarrow import fs

from tests.reliability.kill_support import kill_after_phase
from warehouse_sources.warehouse import delta, upkeep
from warehouse_sources.warehouse.health import table_health
from warehouse_sources.warehouse.state import SyncState
from warehouse_sources.warehouse.storage import filesystem

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
TRIALS = 12
S3_TRIALS = 6  # each S3 trial takes ~8 s (copy, child, maintenance over HTTP) against ~3 s on local disk
Where = tuple[str, dict[str, str] | None]  # a folder for the trials' tables, and its storage options
CHILD = """
import json, os, sys
from datetime import timedelta
from deltalake import DeltaTable
from pyarrow import fs
from warehouse_sources.warehouse import upkeep
from warehouse_sources.warehouse.storage import filesystem
uri, step, marks = sys.argv[1:4]
options = json.loads(os.environ["WS_TEST_OPTIONS"]) or None
store, root = filesystem(uri, options)
fd = os.open(marks, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
table = DeltaTable(uri, storage_options=options)
os.write(fd, b"start\\n")
if step == "compaction":
    upkeep.compact_if_due(table)
else:  # clean-up in a thread; this one kills the process once the first file is gone
    import signal, threading
    def count():
        return len(store.get_file_info(fs.FileSelector(root)))
    before = count()
    args = (table, uri, timedelta(0), options)
    threading.Thread(target=upkeep.clean_up_if_due, args=args, daemon=True).start()
    while count() == before:
        pass
    os.kill(os.getpid(), signal.SIGKILL)
os.write(fd, b"done\\n")
"""


@pytest.fixture(params=["local", "s3"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Where:
    """The trials' folder: on local disk, or a fresh prefix of moto's S3 bucket."""
    if request.param == "local":
        return str(tmp_path / "tables"), None
    root, options = request.getfixturevalue("s3_warehouse")
    return root, options


def ids(uri: str, options: dict[str, str] | None) -> list[int]:
    return sorted(DeltaTable(uri, storage_options=options).to_pyarrow_table()["id"].to_pylist())


def small_files(uri: str, options: dict[str, str] | None, files: int, rows: int, keyed: bool = False) -> None:
    """`files` appends of `rows` rows; `keyed`: as syncs of an incremental table write them (their
    state names the merge key, so compaction works in key order, warehouse/layout.py)."""
    for part in range(files):
        chunk = pa.table({"id": pa.array(range(part * rows, (part + 1) * rows), pa.int64()),
                          "payload": pa.array([f"row {i:012d} " * 4 for i in range(rows)])})  # fmt: skip
        if not keyed:
            write_deltalake(uri, chunk, mode="append", storage_options=options)
            continue
        state = SyncState(method="incremental", replication_key="id", key_kind="int", cursor=part, sort_key="id")
        data = pa.RecordBatchReader.from_batches(chunk.schema, chunk.to_batches())
        if part == 0:
            delta.overwrite(uri, None, data, state, options)
        else:
            delta.append(uri, DeltaTable(uri, storage_options=options), data, state)


def copy(source: str, target: str, options: dict[str, str] | None) -> None:
    """A copy of the table at `source` (its data files and log) at `target`, in the same store."""
    store, root = filesystem(source, options)
    fs.copy_files(root, filesystem(target, options)[1], source_filesystem=store, destination_filesystem=store)


def kill_at_random(uri: str, options: dict[str, str] | None, step: str, marks: Path, delay: float | None) -> str:
    """Run `step` in a child, SIGKILL it `delay` s after it starts the step (None: the child kills
    itself); how far it got."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "plugins"), "WS_TEST_OPTIONS": json.dumps(options)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, uri, step, str(marks)], env=env)
    code = kill_after_phase(child, marks, ("start", delay) if delay is not None else None)
    assert code == -signal.SIGKILL or (delay is not None and code == 0), code
    return "done" if "done" in marks.read_text() else "killed mid-step"


def template(where: Where, keyed: bool = False) -> str:
    """A table of 16 small files (16 x 20,000 rows): compaction is due."""
    uri = f"{where[0]}/template"
    small_files(uri, where[1], 16, 20_000, keyed)
    return uri


@pytest.mark.parametrize("order", ["bin-packing", "key order"])
def test_a_kill_during_compaction_loses_nothing_and_the_next_pass_compacts(
    where: Where, tmp_path: Path, order: str
) -> None:
    root, options = where
    prepared = template(where, keyed=order == "key order")
    rng, outcomes = random.Random(5), []
    for trial in range(TRIALS if options is None else S3_TRIALS):
        uri = f"{root}/t{trial}"
        copy(prepared, uri, options)
        version, rows = DeltaTable(uri, storage_options=options).version(), ids(uri, options)
        outcomes.append(kill_at_random(uri, options, "compaction", tmp_path / f"m{trial}", rng.uniform(0, 0.2)))
        assert ids(uri, options) == rows, f"trial {trial}: rows changed"
        # The compaction's commit landed whole or not at all.
        assert DeltaTable(uri, storage_options=options).version() in (version, version + 1)
        done = upkeep.maintain(uri, timedelta(hours=1), options)
        table = DeltaTable(uri, storage_options=options)
        assert ids(uri, options) == rows and len(table.file_uris()) < upkeep.MIN_SMALL_FILES, done.summary()
    print(f"compaction kills ({order}):", outcomes)
    assert "killed mid-step" in outcomes, outcomes  # the kills did land inside compaction


def test_a_kill_during_clean_up_keeps_the_current_version_and_the_next_pass_finishes(
    where: Where, tmp_path: Path
) -> None:
    root, options = where
    prepared = template(where)
    assert upkeep.compact_if_due(DeltaTable(prepared, storage_options=options)) is not None  # clean-up is due
    outcomes = []
    for trial in range(TRIALS if options is None else S3_TRIALS):
        uri = f"{root}/t{trial}"
        copy(prepared, uri, options)
        rows = ids(uri, options)
        ended = kill_at_random(uri, options, "clean-up", tmp_path / f"m{trial}", None)
        left = table_health(uri, options).files_on_disk - 1  # the 16 removed files still on disk
        outcomes.append(ended if ended == "done" else "before deleting" if left == 16 else f"{16 - left} deleted")
        assert ids(uri, options) == rows, f"trial {trial}: rows changed"
        upkeep.maintain(uri, timedelta(0), options)
        health = table_health(uri, options)
        assert health.files_on_disk == health.live_files, f"trial {trial}: the next pass left files"
        assert ids(uri, options) == rows
    print("clean-up kills:", outcomes)
    assert any(o.endswith("deleted") for o in outcomes), outcomes  # some kills landed after deleting began
