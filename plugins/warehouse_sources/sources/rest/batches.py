"""API records (JSON objects) -> Arrow batches in the declared types.

Declared fields keep their types; a top-level field the API starts sending that is not declared
becomes a text column (JSON text for nested values): schema drift as for databases. Objects
nested in a field are JSON text; an expandable reference keeps only its id; a list of ids (HubSpot's
associations) is a list<string> column, as a database's one-dimensional array is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from warehouse_sources.sources.rest.errors import ApiDataError
from warehouse_sources.sources.rest.spec import DELETED_AT, ApiField, FieldType, ObjectSpec

if TYPE_CHECKING:
    import pyarrow as pa

BATCH_RECORDS = 5000


def arrow_type(kind: FieldType) -> pa.DataType:
    import pyarrow as pa

    if kind in ("timestamp", "iso_timestamp"):
        return pa.timestamp("us", tz="UTC")
    if kind == "id_list":
        return pa.list_(pa.string())
    return {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(), "date": pa.date32()}.get(
        kind, pa.string()
    )


def columns_of(spec: ObjectSpec, first: list[dict[str, Any]], ignored: frozenset[str]) -> tuple[ApiField, ...]:
    """The declared fields, then the undeclared ones the first page carries (as text), sorted."""
    declared = {f.name for f in spec.fields} | ignored | {DELETED_AT}
    extra = sorted({k for record in first for k in record if k not in declared})
    return spec.fields + tuple(ApiField(name, "json") for name in extra)


def schema_of(columns: tuple[ApiField, ...], spec: ObjectSpec) -> pa.Schema:
    import pyarrow as pa

    schema = pa.schema([pa.field(c.name, arrow_type(c.type)) for c in columns])
    return schema.append(pa.field(DELETED_AT, pa.timestamp("us", tz="UTC"))) if spec.soft_deletes else schema


def batches(
    spec: ObjectSpec, columns: tuple[ApiField, ...], pages: Iterable[list[dict[str, Any]]]
) -> Iterator[pa.RecordBatch]:
    """One batch per BATCH_RECORDS records (pages gathered), so memory holds one batch of records."""
    held: list[dict[str, Any]] = []
    for page in pages:
        held.extend(page)
        if len(held) >= BATCH_RECORDS:
            yield to_batch(spec, columns, held)
            held = []
    if held:
        yield to_batch(spec, columns, held)


def to_batch(spec: ObjectSpec, columns: tuple[ApiField, ...], records: list[dict[str, Any]]) -> pa.RecordBatch:
    import pyarrow as pa

    arrays = [_column(spec, c, [r.get(c.name) for r in records]) for c in columns]
    if spec.soft_deletes:
        arrays.append(_timestamps(spec, ApiField(DELETED_AT, "timestamp"), [r.get(DELETED_AT) for r in records]))
    return pa.RecordBatch.from_arrays(arrays, schema=schema_of(columns, spec))


def _column(spec: ObjectSpec, column: ApiField, values: list[Any]) -> pa.Array:
    import pyarrow as pa

    kind = column.type
    try:
        if kind in ("timestamp", "iso_timestamp"):
            return _timestamps(spec, column, values)
        if kind == "json":
            return pa.array([_json_text(v) for v in values], pa.string())
        if kind == "id":
            return pa.array([v.get("id") if isinstance(v, dict) else _text(v) for v in values], pa.string())
        if kind == "string":
            return pa.array([_text(v) for v in values], pa.string())
        return pa.array(values, arrow_type(kind))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
        raise _bad_value(spec, column, values, exc) from None


def _timestamps(spec: ObjectSpec, column: ApiField, values: list[Any]) -> pa.Array:
    import pyarrow as pa

    target = pa.timestamp("us", tz="UTC")
    if column.type == "iso_timestamp" or any(isinstance(v, str) for v in values):  # ISO 8601 text (HubSpot)
        return pa.array([_text(v) or None for v in values], pa.string()).cast(target)
    if any(isinstance(v, bool) or not isinstance(v, (int, type(None))) for v in values):
        raise TypeError("not whole epoch seconds")
    return pa.array(values, pa.int64()).cast(pa.timestamp("s", tz="UTC")).cast(target)


def _bad_value(spec: ObjectSpec, column: ApiField, values: list[Any], exc: BaseException) -> ApiDataError:
    sample = next((v for v in values if v is not None), None)
    return ApiDataError(
        f"object {spec.name!r}: field {column.name!r} is declared {column.type} but the API sent "
        f"{json.dumps(sample)[:80]} ({type(exc).__name__}); report it as a bug (the API changed the field's form)"
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return json.dumps(value)  # numbers and booleans as JSON writes them


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))
