"""Generation for the bucket differential fuzzer: a table of files, and what each value must become.

A `FileTableSpec` is drawn whole (format, method, replication key or files, columns of every kind
the format carries); files are drawn step by step: rows with unique ids, columns that first
appear in a later file (late fields), a number column that is a double in one file and whole
numbers in the next, compression suffixes in any case, far dates, naive, zoned and nanosecond
timestamps, nested objects. Now and then a bad file: a column differing only by case from the
table's, or an integer a double cannot hold exactly next to a double file; the README says those
are refused, so the sync must fail and commit nothing. `expected` is the README's mapping, value
by value (naive timestamps are UTC wall clocks, far dates NULL, nanoseconds cut to microseconds).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

FORMATS = ("parquet", "csv", "jsonl")
KINDS = {
    "parquet": ("int", "float", "num", "decimal", "text", "bool", "date", "ts", "tstz", "ts_ns"),
    "jsonl": ("int", "float", "num", "text", "bool", "date", "ts", "tstz", "nested"),
    "csv": ("int", "float", "text", "bool", "date", "ts", "tstz"),
}
NAMES = ("amount", "Note", "ünï", "x y", "v2", "表", "when", "flag", "day", "data", "k")
SUFFIXES = ("", ".gz", ".GZ", ".zst")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAR_DAYS = (-719_162 - 400, 2_932_896 + 30)  # year 0 (a day of year -1 in Parquet) and year 10000
TOO_BIG_FOR_DOUBLE = 2**53 + 1


@dataclass
class Column:
    name: str
    kind: str
    first_file: int = 0  # late fields: files before this one do not have the column


@dataclass
class FileTableSpec:
    fmt: str
    method: str
    key: str | None  # "seq" or None: the files not loaded yet
    columns: list[Column]


@dataclass
class DataFile:
    rel: str
    rows: list[dict[str, Any]]  # the values as the file holds them
    types: dict[str, str] = field(default_factory=dict)  # "num" columns: "int" or "float" in this file
    bad: str = ""  # why the README refuses it ("" for a good file)


def specs(method: str) -> st.SearchStrategy[FileTableSpec]:
    @st.composite
    def draw(data: st.DrawFn) -> FileTableSpec:
        fmt = data(st.sampled_from(FORMATS))
        key = data(st.sampled_from([None, "seq"])) if method != "full_table" else None
        names = data(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique_by=str.casefold))
        late = fmt != "csv"
        columns = [
            Column(n, data(st.sampled_from(KINDS[fmt])), data(st.sampled_from([0, 0, 1, 2])) if late else 0)
            for n in names
        ]
        return FileTableSpec(fmt, method, key, columns)

    return draw()


def value(data: st.DataObject, kind: str, fmt: str, as_type: str = "", plain: bool = False) -> Any:
    """One value of `kind` as the file holds it (None and far dates now and then, unless `plain`)."""
    if not plain and data.draw(st.integers(0, 6), label="null?") == 0:
        return None
    if kind == "int" or (kind == "num" and as_type == "int"):
        return data.draw(st.integers(-(2**53), 2**53) if kind == "num" else st.integers(-(2**63), 2**63 - 1))
    if kind in ("float", "num"):
        number = data.draw(st.floats(allow_nan=False, allow_infinity=False, width=64))
        return number if number % 1 else number + 0.5  # a fraction, so CSV and JSON infer a double
    if kind == "decimal":
        return Decimal(data.draw(st.integers(-(10**10) + 1, 10**10 - 1))).scaleb(-2)
    if kind == "text":
        return "s" + data.draw(st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=8))
    if kind == "bool":
        return data.draw(st.booleans())
    if kind == "date":
        far = fmt != "csv" and not plain and data.draw(st.integers(0, 5), label="far?") == 0
        days = data.draw(st.sampled_from(FAR_DAYS[:1] if fmt == "jsonl" else FAR_DAYS)) if far else None
        return ("far", days) if far else date(1, 1, 1) + timedelta(days=data.draw(st.integers(0, 3_652_058)))
    if kind in ("ts", "tstz"):
        wall = datetime(1900, 1, 1) + timedelta(microseconds=data.draw(st.integers(0, 200 * 365 * 86_400 * 10**6)))
        if kind == "ts":
            return wall
        return wall.replace(tzinfo=timezone(timedelta(minutes=data.draw(st.integers(-14 * 60, 14 * 60)))))
    if kind == "ts_ns":
        return data.draw(st.integers(-(2**62), 2**62))
    return data.draw(st.dictionaries(st.sampled_from("abcXY"), st.integers(-5, 5) | st.text("xyz", max_size=3)))


def expected(column: Column, raw: Any) -> Any:
    """What the warehouse must hold for a file's value (README: Bucket sources, Types)."""
    if raw is None or (isinstance(raw, tuple) and raw[0] == "far"):
        return None
    if column.kind == "num":
        return float(raw)
    if column.kind == "ts":
        return raw.replace(tzinfo=UTC)  # a UTC wall clock
    if column.kind == "tstz":
        return raw.astimezone(UTC)
    if column.kind == "ts_ns":
        return EPOCH + timedelta(microseconds=raw // 1000)  # cut to the microsecond at or before
    return raw


def is_far(raw: Any) -> bool:
    return isinstance(raw, tuple) and raw[0] == "far"


def write(folder: Path, spec: FileTableSpec, file: DataFile) -> None:
    """`file` in the table's format (compressed by its suffix)."""
    path = folder / file.rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if spec.fmt == "parquet":
        path.write_bytes(_parquet(spec, file))
        return
    text = _csv(spec, file) if spec.fmt == "csv" else "".join(_json_line(spec, row) + "\n" for row in file.rows)
    data = text.encode()
    suffix = file.rel.lower()
    if suffix.endswith(".gz"):
        data = gzip.compress(data)
    elif suffix.endswith(".zst"):
        import pyarrow as pa

        sink = pa.BufferOutputStream()
        with pa.CompressedOutputStream(sink, "zstd") as out:
            out.write(data)
        data = sink.getvalue().to_pybytes()
    path.write_bytes(data)


def _names(file: DataFile) -> list[str]:
    return list(dict.fromkeys(name for row in file.rows for name in row)) or ["id"]


def _parquet(spec: FileTableSpec, file: DataFile) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = {c.name: c.kind for c in spec.columns} | {"id": "int", "seq": "int"}
    arrow = {"int": pa.int64(), "float": pa.float64(), "decimal": pa.decimal128(10, 2), "text": pa.string(),
             "bool": pa.bool_(), "date": pa.date32(), "ts": pa.timestamp("us"), "tstz": pa.timestamp("us", tz="UTC"),
             "ts_ns": pa.timestamp("ns")}  # fmt: skip
    columns = {}
    for name in _names(file):
        kind = kinds.get(name, kinds.get(name.swapcase(), "int"))
        kind = file.types.get(name, "float") if kind == "num" else kind
        cells = [row.get(name) for row in file.rows]
        if kind == "date":
            cells = [c[1] if is_far(c) else None if c is None else (c - date(1970, 1, 1)).days for c in cells]
        columns[name] = pa.array(cells, arrow[kind])
    sink = io.BytesIO()
    pq.write_table(pa.table(columns) if columns else pa.table({"id": pa.array([], pa.int64())}), sink)
    return sink.getvalue()


def _text(raw: Any) -> Any:
    if is_far(raw):
        return "0000-01-01"
    if isinstance(raw, datetime):
        return raw.isoformat(sep=" ", timespec="microseconds")
    if isinstance(raw, date):
        return raw.isoformat()
    return raw


def _json_line(spec: FileTableSpec, row: dict[str, Any]) -> str:
    return json.dumps({name: _text(raw) for name, raw in row.items()}, ensure_ascii=False)


def _csv(spec: FileTableSpec, file: DataFile) -> str:
    names = ["id", *(["seq"] if spec.key else []), *(c.name for c in spec.columns)]
    names = file.rows[0].keys() if file.bad else names  # a bad file's own header
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in file.rows:
        cells = [_text(row.get(n)) for n in names]
        writer.writerow(
            [
                "" if c is None else str(c).lower() if isinstance(c, bool) else repr(c) if isinstance(c, float) else c
                for c in cells
            ]
        )
    return out.getvalue()
