"""What the kill-trial runner (kill_trials.py) reads and runs: the worker process killed at a chosen
point, the phases it reported, and the synced table's rows and files on disk or on S3.

The workers are forked from one pre-loaded zygote per environment (kill_worker.py says how), not
started as fresh interpreters: the same sync in its own process, SIGKILLed by its pid as before,
without the ~1.2-2.4 s of imports each of the hundreds of trials used to pay."""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any, Protocol

from warehouse_sources.warehouse import delta
from warehouse_sources.warehouse.storage import filesystem, is_object_store

WORKER = Path(__file__).with_name("kill_worker.py")
SEED = int(os.environ.get("WS_KILL_SEED") or time.time_ns() % 1_000_000_007)
COLUMNS = ("id", "grp", "name", "note", "created_at", "updated_at")  # timestamps compared as UTC microseconds
WORKER_TIMEOUT = 120
Options = dict[str, str] | None


def worker_env(pycache: Path) -> dict[str, str]:
    """The workers' environment: bytecode cached in a temporary folder (never next to the sources),
    so only the first worker compiles its imports (with PYTHONDONTWRITEBYTECODE each one would)."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(pycache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# Off in the zygote only: background threads of pyarrow's and delta-rs's jemalloc and OpenBLAS's pool,
# started at import, would be running at every fork (kill_worker.zygote refuses to fork then).
NO_IMPORT_THREADS = {
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
    "_RJEM_MALLOC_CONF": "background_thread:false",
    "OPENBLAS_NUM_THREADS": "1",
}


class Process(Protocol):
    """What kill_after_phase needs of a process: a subprocess.Popen, or a worker forked by the zygote."""

    def poll(self) -> int | None: ...
    def send_signal(self, sig: int) -> None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def kill(self) -> None: ...


class Forked:
    """One worker forked by the zygote: signalled by its pid (a zombie until the zygote's next
    request, so never another process's), its exit status read from the zygote's reply."""

    def __init__(self, zygote: Zygote, pid: int) -> None:
        self.zygote, self.pid, self.returncode = zygote, pid, None

    def poll(self) -> int | None:
        if self.returncode is None and self.zygote.replied(0):
            self.returncode = self.zygote.exit_status()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not self.zygote.replied(timeout):
                raise subprocess.TimeoutExpired(f"forked kill worker {self.pid}", timeout or 0)
            self.returncode = self.zygote.exit_status()
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """kill_worker.py --zygote: a process with the workers' imports done that forks one per trial."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), "--zygote"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env={**env, **NO_IMPORT_THREADS},
        )  # fmt: skip
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.requests: IO[bytes] = self.proc.stdin
        self.replies = self.proc.stdout.fileno()  # read unbuffered: select must see every byte not read yet
        self.pending = b""  # read, not yet taken: the start of the next line
        self.expect("ready")

    def expect(self, word: str) -> str:
        """The zygote's next line, which must begin with `word`; the rest of it."""
        while b"\n" not in self.pending:
            if not self.receive():
                code = self.proc.wait(timeout=WORKER_TIMEOUT)
                raise AssertionError(f"kill worker zygote ended (exit {code}) while {word!r} was expected")
        line, _, self.pending = self.pending.partition(b"\n")
        if not line.startswith(word.encode()):
            raise AssertionError(f"kill worker zygote: expected {word!r}, got {line!r}")
        return line[len(word) :].decode().strip()

    def receive(self) -> bool:
        """Read what the zygote wrote (blocking until something came); False at its end."""
        chunk = os.read(self.replies, 4096)
        self.pending += chunk
        return bool(chunk)

    def fork(self, args: dict, output: Path) -> Forked:
        self.requests.write(json.dumps({"args": args, "output": str(output)}).encode() + b"\n")
        self.requests.flush()
        return Forked(self, int(self.expect("pid")))

    def replied(self, timeout: float | None) -> bool:
        """Whether the zygote's next line (or its end) is there, waiting up to `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self.replies], [], [], left)[0]:
                return False
            if not self.receive():
                return True  # its end: expect() says so
        return True

    def exit_status(self) -> int:
        return int(self.expect("exit"))

    def stop(self) -> None:
        self.requests.close()
        self.proc.wait(timeout=WORKER_TIMEOUT)


_zygote: Zygote | None = None


def zygote_for(env: dict[str, str]) -> Zygote:
    """The zygote started with `env` (one at a time: a module's env replaces the last one's)."""
    global _zygote
    if _zygote is None or _zygote.env != env or _zygote.proc.poll() is not None:
        if _zygote is not None:
            _zygote.stop()
        _zygote = Zygote(env)
    return _zygote


@atexit.register
def _stop_zygote() -> None:
    if _zygote is not None:
        _zygote.stop()


def read_phases(path: Path) -> list[tuple[str, float]]:
    if not path.exists():
        return []
    return [(p[0], float(p[1])) for p in (line.split() for line in path.read_text().splitlines()) if len(p) >= 2]


def landed(phases: list[tuple[str, float]]) -> str:
    """Where a kill that left the table's version alone landed, from the last phase the worker reported."""
    last = phases[-1][0] if phases else "boot"
    names = {"boot": "startup", "ready": "planning", "batch": "reading", "commit": "writing+commit"}
    return names.get(last, "after commit")


def run_worker(
    args: dict, kill_after: tuple[str, float] | None, tmp: Path, trial: int, env: dict[str, str]
) -> tuple[int, list[tuple[str, float]], float]:
    """Run the worker; with kill_after (phase, delay), SIGKILL it `delay` seconds after it reported
    `phase` ("spawn": after the fork). The worker is forked from the zygote started with `env`.
    (exit status, phases, when it was started)."""
    phase_file, err_file = tmp / f"phases-{trial}.txt", tmp / f"stderr-{trial}.txt"
    args = {**args, "phase_file": str(phase_file)}
    zygote = zygote_for(env)
    started = time.time()
    status = kill_after_phase(zygote.fork(args, err_file), phase_file, kill_after)
    if status not in (0, -signal.SIGKILL):
        raise AssertionError(f"seed={SEED} trial {trial}: worker exited {status}:\n{err_file.read_text()[-4000:]}")
    return status, read_phases(phase_file), started


def kill_after_phase(proc: Process, marks: Path, kill_after: tuple[str, float] | None) -> int:
    """With kill_after (phase, delay), SIGKILL `proc` `delay` seconds after a line of `marks` began
    with `phase` ("spawn": after the start); then its exit status. Used by the maintenance kills too."""
    started = time.time()
    try:
        if kill_after is not None:
            phase, delay = kill_after
            while phase != "spawn" and proc.poll() is None and time.time() - started < WORKER_TIMEOUT:
                if marks.exists() and any(line.split()[:1] == [phase] for line in marks.read_text().splitlines()):
                    break
                time.sleep(0.001)
            time.sleep(delay)  # not proc.wait(timeout): it polls with up to 50 ms between looks
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        return proc.wait(timeout=WORKER_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def stored_cursor(uri: str, options: Options = None) -> Any:
    """The cursor the synced table's last sync commit stored (None for full_table)."""
    from deltalake import DeltaTable

    state = delta.read_state(DeltaTable(uri, storage_options=options))
    assert state is not None, f"{uri} has no sync state"
    return state.cursor


def warehouse_rows(uri: str, options: Options = None, names: tuple[str, ...] = COLUMNS) -> list[tuple[Any, ...]]:
    """The synced table's rows as tuples of `names`, timestamps as UTC microseconds; a column the table
    does not have (an API table's _ws_deleted_at under full_table) reads as None."""
    import pyarrow as pa
    from deltalake import DeltaTable

    dt = DeltaTable(uri, storage_options=options)
    present = [n for n in names if n in pa.schema(dt.schema().to_arrow()).names]
    table = dt.to_pyarrow_table(columns=present)
    read = {n: table.column(n) for n in present}
    read = {n: c.cast(pa.int64()) if pa.types.is_timestamp(c.type) else c for n, c in read.items()}
    columns = [read[n].to_pylist() if n in read else [None] * table.num_rows for n in names]
    return list(zip(*columns, strict=True))


def data_files(uri: str, options: Options = None) -> set[str]:
    """Parquet files under the table folder, relative to it."""
    if is_object_store(uri):
        return {f for f in stored_files(uri, options) if f.endswith(".parquet") and not f.startswith("_delta_log/")}
    found: set[str] = set()
    for folder, dirs, files in os.walk(uri):
        dirs[:] = [d for d in dirs if d != "_delta_log"]
        found.update(os.path.relpath(os.path.join(folder, f), uri) for f in files if f.endswith(".parquet"))
    return found


def stored_files(uri: str, options: Options = None) -> set[str]:
    """Every object under the table's folder (local or on S3), relative to it."""
    from pyarrow import fs

    store, root = filesystem(uri, options)
    infos = store.get_file_info(fs.FileSelector(root, recursive=True, allow_not_found=True))
    return {i.path.removeprefix(root + "/") for i in infos if i.type == fs.FileType.File}


def current_files(uri: str, options: Options = None) -> set[str]:
    from deltalake import DeltaTable

    return {relative(f, uri) for f in DeltaTable(uri, storage_options=options).file_uris()}


def relative(path: str, uri: str) -> str:
    """A data file's path relative to the table folder (delta-rs gives absolute URIs or relative paths)."""
    if path.startswith(uri.rstrip("/") + "/"):
        return path[len(uri.rstrip("/")) + 1 :]
    path = path.removeprefix("file://")
    return os.path.relpath(path, uri) if os.path.isabs(path) else path


def ever_committed(uri: str, options: Options = None) -> set[str]:
    """Every data file some commit added (the JSON log is kept whole here: no log cleanup ran)."""
    from urllib.parse import unquote

    store, root = filesystem(uri, options)
    paths = set()
    for name in sorted(f for f in stored_files(uri, options) if f.startswith("_delta_log/") and f.endswith(".json")):
        with store.open_input_stream(f"{root}/{name}") as entry:
            text = entry.read().decode()
        for line in text.splitlines():
            action = json.loads(line)
            if "add" in action:
                paths.add(unquote(action["add"]["path"]))
    return paths


def compare(method: str, synced: list[tuple[Any, ...]], source: list[tuple[Any, ...]], deleted: set[int]) -> dict:
    """Rows lost (source row absent), duplicated (extra copies of an id), stale (old values), extra (ids
    the source does not have; for incremental only deleted ids are allowed to stay)."""
    if method != "incremental" and sorted(synced) == sorted(source):
        return {"lost": 0, "duplicated": 0, "stale": 0, "extra": 0}
    counts = Counter(row[0] for row in synced)
    by_id = {row[0]: row for row in synced}
    want = {row[0]: row for row in source}
    extra_ids = set(by_id) - set(want)
    if method == "incremental":
        extra_ids -= deleted
    return {
        "lost": sum(1 for i in want if i not in by_id),
        "duplicated": sum(n - 1 for n in counts.values() if n > 1),
        "stale": sum(1 for i, row in want.items() if i in by_id and by_id[i] != row),
        "extra": len(extra_ids),
    }
