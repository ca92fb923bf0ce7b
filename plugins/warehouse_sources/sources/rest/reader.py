"""The one reader of every REST source: a `SourceReader` over an API's object declarations.

The engine drives it as it drives a database: `key_bounds` asks the API for the newest cursor
value (and pins it, so a read inside the snapshot never goes past it), `key_condition` hands
back an opaque condition, and `read` pages the API into Arrow batches. A read from the
`created` cursor lists objects created in [cursor, pinned]; a read from the `updated` cursor
asks the dialect what changed (Stripe's events, HubSpot's search); a read of everything lists
every object. Cursors are UTC timestamps.
"""

from __future__ import annotations

import difflib
import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import TYPE_CHECKING, Any, Protocol

from warehouse_sources.sources.base import TableDescription, ValueNotes
from warehouse_sources.sources.rest.batches import batches, columns_of, schema_of
from warehouse_sources.sources.rest.spec import ObjectSpec
from warehouse_sources.warehouse.state import CursorValue, encode_cursor

if TYPE_CHECKING:
    import pyarrow as pa

LOG = logging.getLogger("warehouse_sources.sources.rest")
Pages = Iterator[list[dict[str, Any]]]


class ApiDialect(Protocol):
    """What differs between APIs: paging, filters, how changes and deletions are learned."""

    service: str
    ignored: frozenset[str]  # record keys that are not data (Stripe's "object")
    window: timedelta | None  # how far back the change log reaches (Stripe's events: 30 days)

    def declared(self, spec: ObjectSpec) -> ObjectSpec:
        """The object with the fields this account has (HubSpot's properties); most APIs: `spec` as is."""
        ...

    def newest(self, spec: ObjectSpec, key: str, lower: datetime | None) -> datetime | None:
        """The newest value of cursor `key` at or above `lower`, or None when nothing is there."""
        ...

    def listing(self, spec: ObjectSpec, lower: datetime | None, upper: datetime | None) -> Pages:
        """Pages of the objects created in [lower, upper] (either open)."""
        ...

    def changes(self, spec: ObjectSpec, lower: datetime, upper: datetime | None) -> Pages:
        """The newest state of each object changed in [lower, upper], deletions with `_ws_deleted_at` set."""
        ...

    def close(self) -> None: ...


class RestReader:
    """One API source's objects, used as a context manager (closing its HTTP session)."""

    cursor_type_names: tuple[str, ...] = ("timestamp",)

    def __init__(self, dialect: ApiDialect, objects: Mapping[str, ObjectSpec], *, source: str = "") -> None:
        self.dialect = dialect
        self._objects = dict(objects)
        self._source = source
        self.value_notes: ValueNotes = Counter()
        self._upper: dict[tuple[str, str], datetime | None] = {}
        self._conditions: dict[str, tuple[str, datetime]] = {}
        self._expired: set[str] = set()

    def __enter__(self) -> RestReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dialect.close()

    def object_names(self) -> list[str]:
        return list(self._objects)

    def probe(self) -> None:
        """One authenticated request (the newest object of the first object kind): a refused key fails here."""
        spec = next(iter(self._objects.values()))
        if spec.created:
            self.dialect.newest(spec, spec.created, None)
        else:
            self.describe("", spec.name)

    def describe(self, schema: str, table: str) -> TableDescription | None:
        spec = self._objects.get(table)
        if spec is None or schema not in ("", "public"):
            return None
        spec = self._objects[table] = self.dialect.declared(spec)
        return TableDescription(schema="", table=table, columns=spec.fields, primary_key=(spec.key,))

    def similar_tables(self, schema: str, table: str) -> list[str]:
        return difflib.get_close_matches(table, list(self._objects), n=3, cutoff=0.6)

    def begin_snapshot(self) -> None:
        self._upper.clear()
        self._conditions.clear()

    def end_snapshot(self) -> None:
        self._conditions.clear()

    def key_condition(self, desc: TableDescription, key: str, op: str, value: CursorValue) -> str:
        if op != ">=" or not isinstance(value, datetime):
            raise ValueError(
                f"{self.dialect.service} objects are read from a timestamp cursor, not {key} {op} {value!r}"
            )
        token = f"{key} >= {encode_cursor(value)}"
        self._conditions[token] = (key, value)
        return token

    def key_bounds(self, desc: TableDescription, key: str, lower: CursorValue | None) -> tuple[Any, int]:
        spec = self._spec(desc)
        assert lower is None or isinstance(lower, datetime)
        if key == spec.updated and lower is not None and self._past_window(lower):
            self._expired.add(spec.name)
            LOG.warning(
                "%s: the stored cursor %s is older than the %s change log keeps (%s): changes since may be gone, "
                "so every object is listed again and merged (a full refresh: resync also drops deleted rows)",
                spec.name, encode_cursor(lower), self.dialect.service, self.dialect.window,
            )  # fmt: skip
            lower = None
        upper = self.dialect.newest(spec, key, lower)
        self._upper[(spec.name, key)] = upper
        return upper, 0

    def key_problems(self, desc: TableDescription, keys: tuple[str, ...], where: str) -> tuple[int, str | None]:
        return 0, None  # the API's ids are unique and never null; a change read keeps one state per id

    def value_range(self, desc: TableDescription, column: str, where: str) -> tuple[Any, Any]:
        return None, None

    def read(
        self, desc: TableDescription, where: str = "", text_columns: frozenset[str] = frozenset()
    ) -> pa.RecordBatchReader:
        import pyarrow as pa

        spec = self._spec(desc)
        pages = iter(self._pages(spec, where))
        first = next(pages, [])
        columns = columns_of(spec, first, self.dialect.ignored)
        return pa.RecordBatchReader.from_batches(
            schema_of(columns, spec), batches(spec, columns, chain([first], pages))
        )

    def _pages(self, spec: ObjectSpec, where: str) -> Pages:
        key, lower = self._conditions[where] if where else ("", None)
        if key and key == spec.updated and spec.name not in self._expired:
            assert lower is not None
            return self.dialect.changes(spec, lower, self._upper.get((spec.name, key)))
        if key and key == spec.created:
            return self.dialect.listing(spec, lower, self._upper.get((spec.name, key)))
        # Everything: bounded above only for an append-only first read (its cursor is that bound).
        upper = self._upper.get((spec.name, spec.created)) if spec.created else None
        return self.dialect.listing(spec, None, upper)

    def _past_window(self, lower: datetime) -> bool:
        window = self.dialect.window
        return window is not None and lower < datetime.now(UTC) - window + timedelta(minutes=10)

    def _spec(self, desc: TableDescription) -> ObjectSpec:
        return self._objects[desc.table]
