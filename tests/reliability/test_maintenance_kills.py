"""SIGKILL of a process in the middle of table maintenance: compaction and clean-up.

Each trial copies a prepared table, starts maintenance in a child process and kills it at a
random moment after the child signals that the step begins (clean-up, which takes milliseconds,
kills itself as soon as its first file is gone). Whatever the moment, the table still
reads at its version with every row, and the next maintenance pass finishes the job.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from warehouse_sources.warehouse import upkeep
from warehouse_sources.warehouse.health import table_health

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
TRIALS = 12
CHILD = """
import os, sys
from datetime import timedelta
from deltalake import DeltaTable
from warehouse_sources.warehouse import upkeep
uri, step, marks = sys.argv[1:4]
fd = os.open(marks, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
table = DeltaTable(uri)
os.write(fd, b"start\\n")
if step == "compaction":
    upkeep.compact_if_due(table)
else:  # clean-up in a thread; this one kills the process once the first file is gone
    import signal, threading
    count = len(os.listdir(uri))
    threading.Thread(target=upkeep.clean_up_if_due, args=(table, uri, timedelta(0), None), daemon=True).start()
    while len(os.listdir(uri)) == count:
        pass
    os.kill(os.getpid(), signal.SIGKILL)
os.write(fd, b"done\\n")
"""


def ids(table: DeltaTable) -> list[int]:
    return sorted(table.to_pyarrow_table()["id"].to_pylist())


def small_files(uri: Path, files: int, rows: int) -> None:
    for part in range(files):
        chunk = pa.table({"id": pa.array(range(part * rows, (part + 1) * rows), pa.int64()),
                          "payload": pa.array([f"row {i:012d} " * 4 for i in range(rows)])})  # fmt: skip
        write_deltalake(str(uri), chunk, mode="append")


def kill_at_random(uri: Path, step: str, marks: Path, delay: float | None) -> str:
    """Run `step` in a child, SIGKILL it `delay` s after it starts the step (None: the child kills
    itself); how far it got."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "plugins")}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(uri), step, str(marks)], env=env)
    deadline = time.monotonic() + 60
    while "start" not in (marks.read_text() if marks.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.002)
    if delay is not None:
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
    code = child.wait(timeout=60)
    assert code == -signal.SIGKILL or (delay is not None and code == 0), code
    return "done" if "done" in marks.read_text() else "killed mid-step"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A table of 16 small files (16 x 20,000 rows): compaction is due."""
    uri = tmp_path_factory.mktemp("kills") / "template"
    small_files(uri, 16, 20_000)
    return uri


def test_a_kill_during_compaction_loses_nothing_and_the_next_pass_compacts(template: Path, tmp_path: Path) -> None:
    rng, outcomes = random.Random(5), []
    for trial in range(TRIALS):
        uri = tmp_path / f"t{trial}"
        shutil.copytree(template, uri)
        before = DeltaTable(str(uri))
        version, rows = before.version(), ids(before)
        outcomes.append(kill_at_random(uri, "compaction", tmp_path / f"m{trial}", rng.uniform(0, 0.2)))
        after = DeltaTable(str(uri))
        assert ids(after) == rows, f"trial {trial}: rows changed"
        assert after.version() in (version, version + 1)  # the compaction's commit landed whole or not at all
        done = upkeep.maintain(str(uri), timedelta(hours=1))
        table = DeltaTable(str(uri))
        assert ids(table) == rows and len(table.file_uris()) < upkeep.MIN_SMALL_FILES, done.summary()
    print("compaction kills:", outcomes)
    assert "killed mid-step" in outcomes, outcomes  # the kills did land inside compaction


def test_a_kill_during_clean_up_keeps_the_current_version_and_the_next_pass_finishes(
    template: Path, tmp_path: Path
) -> None:
    prepared = tmp_path / "prepared"
    shutil.copytree(template, prepared)
    assert upkeep.compact_if_due(DeltaTable(str(prepared))) is not None  # 16 files removed: clean-up is due
    outcomes = []
    for trial in range(TRIALS):
        uri = tmp_path / f"t{trial}"
        shutil.copytree(prepared, uri)
        rows = ids(DeltaTable(str(uri)))
        ended = kill_at_random(uri, "clean-up", tmp_path / f"m{trial}", None)
        left = table_health(str(uri)).files_on_disk - 1  # the 16 removed files still on disk
        outcomes.append(ended if ended == "done" else "before deleting" if left == 16 else f"{16 - left} deleted")
        assert ids(DeltaTable(str(uri))) == rows, f"trial {trial}: rows changed"
        upkeep.maintain(str(uri), timedelta(0))
        health = table_health(str(uri))
        assert health.files_on_disk == health.live_files, f"trial {trial}: the next pass left files"
        assert ids(DeltaTable(str(uri))) == rows
    print("clean-up kills:", outcomes)
    assert any(o.endswith("deleted") for o in outcomes), outcomes  # some kills landed after deleting began
