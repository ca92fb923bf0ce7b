"""A query's answer as DESIGN §4.6 shapes it, every value JSON-safe, and its text forms.

JSON values: numbers stay numbers (integers of any size, finite floats); NaN and infinities
become the strings "NaN", "Infinity", "-Infinity"; DECIMAL becomes a string with every digit
(no binary rounding: "1234.50"); timestamps become ISO 8601 strings (TIMESTAMPTZ in UTC with
"+00:00", naive TIMESTAMP without an offset), dates and times likewise; INTERVAL becomes
seconds as a number; UUID text; BLOB base64; lists stay lists and structs and maps objects.
A column's DuckDB type says how to read its values back.
"""

from __future__ import annotations

import base64
import csv
import io
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[Column, ...]
    rows: list[list[Any]]
    truncated: bool

    def to_json(self) -> dict[str, Any]:
        """`{"columns": [{"name", "type"}], "rows": [[...]], "truncated": bool}` (DESIGN §4.6)."""
        return {
            "columns": [{"name": c.name, "type": c.type} for c in self.columns],
            "rows": self.rows,
            "truncated": self.truncated,
        }


def json_value(value: Any) -> Any:
    """`value` as fetched from DuckDB, in the JSON form the module docstring describes."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else json_value(float(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(json_value(k)): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return str(value)


def as_csv(result: QueryResult) -> str:
    """RFC 4180 CSV with a header row; NULL is an empty field, nested values their JSON text."""
    import json

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in result.columns])
    for row in result.rows:
        writer.writerow(["" if v is None else json.dumps(v) if isinstance(v, (list, dict)) else v for v in row])
    return out.getvalue()


def as_table(result: QueryResult) -> str:
    """Aligned columns under a header with the column types, as psql draws them."""
    import json

    def cell(value: Any) -> str:
        if value is None:
            return "NULL"
        return json.dumps(value) if isinstance(value, (list, dict, bool)) else str(value)

    header = [f"{c.name} ({c.type})" for c in result.columns]
    body = [[cell(v) for v in row] for row in result.rows]
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(header)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body]
    count = f"({len(body)} row{'s' if len(body) != 1 else ''}"
    lines.append(count + (", truncated at the row limit)" if result.truncated else ")"))
    return "\n".join(lines) + "\n"
