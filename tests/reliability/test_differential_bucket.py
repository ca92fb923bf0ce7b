"""Differential fuzzer for bucket sources: generated files, synced step by step, compared value by value.

Hypothesis draws a table of Parquet, CSV or JSON lines files (differential_bucket.py: columns of
every kind the format carries, late fields, a number column that is a double in one file and
whole numbers in the next, compression suffixes in any case, far dates, naive, zoned and
nanosecond timestamps, nested objects) and a method (full_table; append_only and incremental by
files not loaded yet, or by a replication key). Each step drops 0-2 new files in a `file://`
folder (now and then a bad one: a case twin, or an integer a double cannot hold next to doubles)
and syncs through the real engine into a real Delta table. After every sync the table equals what
the files hold under the README's mapping, value by value, with far dates counted and no
`timestamp_ntz`; a bad file must fail the sync as documented and commit nothing (then it is
removed, as a user would).

25 tables per method by default (seconds on two cores); `WS_FUZZ_EXAMPLES=500` for a long run.
The seed is printed and recorded in RELIABILITY.md; `WS_FUZZ_SEED=<seed>` replays a run.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from tests.integration.bucket_support import sync, table_plan
from tests.reliability.differential_bucket import (
    TOO_BIG_FOR_DOUBLE,
    Column,
    DataFile,
    FileTableSpec,
    expected,
    is_far,
    specs,
    value,
    write,
)
from tests.reliability.differential_runner import EXAMPLES, examples, fuzz_seed
from warehouse_sources.errors import SyncFatalError

pytestmark = pytest.mark.integration

SECTION = "Differential fuzzer"
FUZZ_LOG = logging.getLogger("warehouse_sources.tests.fuzz_bucket")
FUZZ_LOG.propagate = False
EXTENSIONS = {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl"}
REFUSALS = {"case twin": r"differ only by case", "inexact integer": str(TOO_BIG_FOR_DOUBLE)}
FAR = re.compile(r"(\d+) values of column '(.+)' \(outside years 1-9999\)")


@pytest.mark.parametrize("method", ["full_table", "incremental", "append_only"])
def test_bucket_tables_equal_their_files_under_the_methods_guarantee(
    method: str, reliability: Any, request: pytest.FixtureRequest
) -> None:
    seed = fuzz_seed(request)
    print(f"bucket differential fuzzer, {method}: seed {seed} (replay: WS_FUZZ_SEED={seed}), {EXAMPLES} tables")
    counts: Counter[str] = Counter()

    @examples(seed)
    def fuzz(data: st.DataObject) -> None:
        spec = data.draw(specs(method), label="table")
        with tempfile.TemporaryDirectory(prefix="ws-fuzz-bucket-") as tmp:
            counts.update(Run(data, spec, Path(tmp), seed).run())

    fuzz()
    print(f"bucket differential fuzzer, {method}: seed {seed}: {dict(counts)}")
    formats = ", ".join(f"{fmt} {counts[fmt]}" for fmt in ("parquet", "csv", "jsonl") if counts[fmt])
    refused = ", ".join(f"{why} {counts[why]}" for why in REFUSALS if counts[why])
    reliability.add(
        SECTION,
        kind="s3",
        method=method,
        tables=f"{counts['tables']} ({formats})",
        syncs=counts["syncs"],
        **{"source rows compared": counts["rows compared"]},
        changes=f"files {counts['files']}",
        **{"syncs refused as documented": f"{counts['refused']} ({refused})" if refused else "0"},
        seed=seed,
    )


class Run:
    """One drawn table: files added step by step, each step synced and checked."""

    def __init__(self, data: st.DataObject, spec: FileTableSpec, tmp: Path, seed: int) -> None:
        self.data, self.spec, self.seed = data, spec, seed
        self.folder, self.warehouse = tmp / "bucket", str(tmp / "warehouse")
        self.files: list[DataFile] = []
        self.new: list[DataFile] = []  # written since the last successful sync
        self.next_id, self.seq, self.cursor = 1, 0, -1
        self.script: list[str] = [f"{spec}"]
        keys = {"replication_key": spec.key} if spec.key else {}
        pk = ["id"] if spec.method == "incremental" else None
        self.plan = table_plan("t", spec.method, primary_key=pk, **keys)
        self.options = {"pattern": "t/*", "format": spec.fmt}

    def run(self) -> Counter[str]:
        counts: Counter[str] = Counter({"tables": 1, self.spec.fmt: 1})
        for step in range(self.data.draw(st.integers(2, 5), label="syncs")):
            bad = self._bad_file() if step > 0 and self.data.draw(st.integers(0, 4), label="bad?") == 0 else None
            if bad is None:
                for _ in range(self.data.draw(st.integers(1 if step == 0 else 0, 2), label="files")):
                    self._add(self._good_file())
                    counts["files"] += 1
            else:
                self._add(bad)
            counts.update({"syncs": 1, "rows compared": sum(len(f.rows) for f in self.files)})
            if self._sync(bad):
                counts.update({"refused": 1, bad.bad if bad else "": 1})
        return counts

    # -- files ------------------------------------------------------------------------------------

    def _rel(self) -> str:
        index = len(self.files) + len(self.new)
        suffix = (
            self.data.draw(st.sampled_from(("", ".gz", ".GZ", ".zst")), label="suffix")
            if self.spec.fmt != "parquet"
            else ""
        )
        return f"t/{index:03d}{EXTENSIONS[self.spec.fmt]}{suffix}"

    def _columns(self) -> list[Column]:
        index = len(self.files)
        return [c for c in self.spec.columns if c.first_file <= index]

    def _good_file(self) -> DataFile:
        columns = self._columns()
        file = DataFile(self._rel(), [])
        for c in columns:
            if c.kind == "num":
                first = not any(c.name in row for f in self.files for row in f.rows)
                file.types[c.name] = "float" if first else self.data.draw(st.sampled_from(["int", "float"]))
        for n in range(self.data.draw(st.integers(0 if self.files else 1, 6), label="rows")):
            # The first file to carry a column shows its type in its first row (CSV and JSON infer it).
            firsts = {c.name for c in columns if not any(c.name in r for f in self.files for r in f.rows)}
            row = self._row()
            for c in columns:
                plain = n == 0 and c.name in firsts
                cell = value(self.data, c.kind, self.spec.fmt, file.types.get(c.name, ""), plain)
                row[c.name] = cell
            file.rows.append(row)
        return file

    def _row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"id": self.next_id}
        self.next_id += 1
        if self.spec.key:
            self.seq += self.data.draw(st.integers(0, 2), label="seq step")
            row["seq"] = self.seq
        return row

    def _bad_file(self) -> DataFile | None:
        twins = [c for c in self._columns() if c.name.swapcase() != c.name]
        doubles = [
            c for c in self._columns() if c.kind == "num" and any(c.name in r for f in self.files for r in f.rows)
        ]
        choices = (["case twin"] if twins else []) + (["inexact integer"] if doubles else [])
        if not choices:
            return None
        why = self.data.draw(st.sampled_from(choices), label="bad file")
        row = self._row()
        if why == "case twin":
            column = self.data.draw(st.sampled_from(twins))
            row |= {c.name: None for c in self._columns()} | {column.name.swapcase(): None}
            return DataFile(self._rel(), [row], bad=why)
        column = self.data.draw(st.sampled_from(doubles))
        return DataFile(self._rel(), [row | {column.name: TOO_BIG_FOR_DOUBLE}], {column.name: "int"}, bad=why)

    def _add(self, file: DataFile) -> None:
        write(self.folder, self.spec, file)
        self.new.append(file)
        self.script.append(f"{file.rel}: {file.rows!r}" + (f" ({file.bad})" if file.bad else ""))

    # -- sync and check ---------------------------------------------------------------------------

    def _sync(self, bad: DataFile | None) -> bool:
        """One sync; True when it was refused as documented."""
        records = _Records()
        FUZZ_LOG.addHandler(records)
        before = self._version()
        try:
            sync(f"file://{self.folder}/", self.warehouse, self.plan, self.options, log=FUZZ_LOG)
        except SyncFatalError as exc:
            if bad is None or not re.search(REFUSALS[bad.bad], str(exc)):
                raise AssertionError(self._report(f"the sync failed: {exc}")) from exc
            assert self._version() == before, self._report("a refused sync committed")
            (self.folder / bad.rel).unlink()  # what the user does: fix or remove the file
            self.new.remove(bad)
            self.script.append(f"-- sync refused as documented ({bad.bad}); the file is removed")
            self._check({})
            return True
        finally:
            FUZZ_LOG.removeHandler(records)
        if bad is not None:
            raise AssertionError(self._report(f"the sync succeeded, expected a refusal ({bad.bad})"))
        read = self._rows_read()
        self.files += self.new
        self.new = []
        self.cursor = max([self.cursor] + [r.get("seq", -1) for f in self.files for r in f.rows])
        self.script.append("-- synced")
        self._check(records.far_dates(), read)
        return False

    def _rows_read(self) -> list[dict[str, Any]]:
        if self.spec.method == "full_table" or not self.files:
            return [r for f in self.files + self.new for r in f.rows]
        if self.spec.key is None:
            return [r for f in self.new for r in f.rows]
        return [r for f in self.files + self.new for r in f.rows if r["seq"] >= self.cursor]

    def _check(self, far_logged: dict[str, int], read: list[dict[str, Any]] | None = None) -> None:
        from deltalake import DeltaTable

        if not self.files:
            return
        table = DeltaTable(f"{self.warehouse}/t")
        assert table.protocol().min_reader_version < 3, self._report("the table uses timestamp_ntz (reader 3)")
        stored = sorted(table.to_pyarrow_table().to_pylist(), key=lambda r: r["id"])
        want = [self._expected_row(r) for f in self.files for r in f.rows]
        for got, row in zip(stored, want, strict=False):
            for name, cell in row.items():
                if not _same(got.get(name), cell):
                    raise AssertionError(
                        self._report(
                            f"row id {row['id']}, column {name!r}: stored {got.get(name)!r}, expected {cell!r}"
                        )
                    )
        assert len(stored) == len(want), self._report(f"{len(stored)} rows stored, expected {len(want)}")
        far = Counter(name for r in (read or []) for name, cell in r.items() if is_far(cell))
        exact = self.spec.key is None
        for name in set(far) | set(far_logged):
            ok = far_logged.get(name, 0) == far[name] if exact else far_logged.get(name, 0) >= far[name]
            assert ok, self._report(
                f"column {name!r}: {far_logged.get(name, 0)} far dates counted, expected {far[name]}"
            )

    def _expected_row(self, raw: dict[str, Any]) -> dict[str, Any]:
        kinds = {c.name: c for c in self.spec.columns}
        absent = dict.fromkeys(kinds)  # a column the row's file lacks reads as NULL
        return absent | {name: expected(kinds[name], cell) if name in kinds else cell for name, cell in raw.items()}

    def _version(self) -> int | None:
        from deltalake import DeltaTable

        uri = f"{self.warehouse}/t"
        return DeltaTable(uri).version() if DeltaTable.is_deltatable(uri) else None

    def _report(self, problem: str) -> str:
        script = "\n".join(self.script)
        return f"{problem}\n\nseed {self.seed} (WS_FUZZ_SEED={self.seed}); the files, step by step:\n{script}"


def _same(got: Any, want: Any) -> bool:
    import json

    if isinstance(want, dict):
        return isinstance(got, str) and json.loads(got) == want
    return bool(got == want) and (got is None) == (want is None)


class _Records(logging.Handler):
    """The warnings one sync logged."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.warnings.append(record.getMessage())

    def far_dates(self) -> dict[str, int]:
        return {m.group(2): int(m.group(1)) for w in self.warnings if (m := FAR.search(w))}
