"""Helpers of the fault and concurrency tests: table snapshots, orphan files, a small filesystem."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from warehouse_sources.warehouse.state import STATE_KEY


@dataclass(frozen=True)
class Snapshot:
    """What a reader of a synced table sees: its version, its sync state and its rows' fingerprint."""

    version: int
    state: str | None
    rows: tuple[int, int, str]


def table_fingerprint(table_uri: str, columns: list[str], key: str = "id") -> tuple[int, int, str]:
    """(rows, distinct keys, md5 of the rows in key order) of a synced table, the same as `source_fingerprint`.

    Computed with Arrow: turning a few hundred thousand rows into Python objects costs seconds.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    data = DeltaTable(table_uri).to_pyarrow_table(columns=columns).sort_by(key)
    texts = []
    for name in columns:
        column = data.column(name)
        assert column.null_count == 0, f"{table_uri}: NULLs in {name} (the fingerprint does not handle them)"
        if pa.types.is_timestamp(column.type):
            column = pc.cast(pc.cast(column, pa.timestamp("us", tz="UTC")), pa.int64())
        texts.append(pc.cast(column, pa.string()))
    lines = pc.binary_join_element_wise(*texts, ",").to_pylist() if data.num_rows else []
    digest = hashlib.md5(";".join(lines).encode()).hexdigest()
    return data.num_rows, pc.count_distinct(data.column(key)).as_py(), digest


def source_fingerprint(uri: str, table: str, columns: list[str], key: str = "id") -> tuple[int, int, str]:
    """`table_fingerprint` of a source table, computed by PostgreSQL."""
    import psycopg

    with psycopg.connect(uri) as conn:
        types = dict(
            conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0",
                (table,),
            ).fetchall()
        )
        parts = [
            f"(extract(epoch FROM {c}) * 1000000)::bigint::text" if types[c].startswith("timestamp") else f"{c}::text"
            for c in columns
        ]
        line = " || ',' || ".join(parts)
        (count, keys, text), *_ = conn.execute(
            f"SELECT count(*), count(DISTINCT {key}), coalesce(string_agg({line}, ';' ORDER BY {key}), '') FROM {table}"
        ).fetchall()
    return count, keys, hashlib.md5(text.encode()).hexdigest()


def snapshot(table_uri: str, columns: list[str]) -> Snapshot:
    from deltalake import DeltaTable

    table = DeltaTable(table_uri)
    state = next((c.get(STATE_KEY) for c in table.history(1)), None)
    return Snapshot(table.version(), state, table_fingerprint(table_uri, columns))


def orphan_files(table_uri: str) -> list[str]:
    """Parquet files in the table's folder that its current version does not list."""
    from deltalake import DeltaTable

    listed = {os.path.basename(u) for u in DeltaTable(table_uri).file_uris()}
    return sorted(f for f in os.listdir(table_uri) if f.endswith(".parquet") and f not in listed)


def first_line(error: BaseException, limit: int = 80, paths: dict[str, str] | None = None) -> str:
    """The start of the message a user reads in the task log, for the report.

    Temporary paths are replaced by their names in `paths` and random ports by `<port>`, so the
    report holds nothing of the machine it ran on.
    """
    text = " ".join(str(error).split())
    for path, name in (paths or {}).items():
        text = text.replace(path, name)
    return re.sub(r"port \d+", "port <port>", text)[:limit]


@dataclass
class SmallFilesystem:
    """A mounted filesystem of known size; `fill` leaves only so much free, `drain` frees it again."""

    path: Path
    kind: str
    ballast: Path

    def free_bytes(self) -> int:
        stat = os.statvfs(self.path)
        return stat.f_bavail * stat.f_frsize

    def fill(self, leave_free: int) -> None:
        """Take all but `leave_free` bytes with a ballast file (real blocks, tmpfs and ext4 alike)."""
        size = self.free_bytes() - leave_free
        assert size > 0, f"the {self.kind} at {self.path} has only {self.free_bytes()} bytes free"
        fd = os.open(self.ballast, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.posix_fallocate(fd, 0, size)
        finally:
            os.close(fd)

    def drain(self) -> None:
        self.ballast.unlink(missing_ok=True)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


@contextmanager
def small_filesystem(base: Path, size_mb: int) -> Iterator[SmallFilesystem]:
    """Mount a `size_mb` tmpfs at base/mnt (else a loop-mounted ext4 image); skip if neither works.

    Always unmounted on the way out.
    """
    mount_point = base / "mnt"
    mount_point.mkdir(parents=True)
    problems: list[str] = []
    if shutil.which("mount") is None:
        pytest.skip("no `mount` command here: cannot make a small filesystem to fill")
    done = _run("mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(mount_point))
    kind = "tmpfs"
    if done.returncode != 0:
        problems.append(f"tmpfs: {done.stderr.strip()}")
        image = base / "disk.img"
        kind = "loop-mounted ext4"
        steps = (
            ("truncate", "-s", f"{size_mb}M", str(image)),
            ("mkfs.ext4", "-q", "-F", "-m", "0", str(image)),  # no blocks reserved for root (we are root)
            ("mount", "-o", "loop", str(image), str(mount_point)),
        )
        for step in steps:
            done = _run(*step) if shutil.which(step[0]) else None
            if done is None or done.returncode != 0:
                problems.append(f"{step[0]}: {done.stderr.strip() if done else 'not installed'}")
                pytest.skip(f"cannot mount a small filesystem here (need root and mount): {'; '.join(problems)}")
    try:
        yield SmallFilesystem(mount_point, kind, mount_point / "ballast")
    finally:
        undone = _run("umount", str(mount_point))
        if undone.returncode != 0:
            _run("umount", "-l", str(mount_point))
