"""An API object as data: where it is listed, its declared fields, its key and cursors, its methods.

A third API is a list of these plus a dialect (sources/rest/reader.py's `ApiDialect`), not new
machinery. Field types are the API's own forms: `timestamp` is epoch seconds (Stripe), `iso_timestamp`
an ISO 8601 string (HubSpot), `date` a calendar date (a `datetime.date` or `YYYY-MM-DD`), `id` an
expandable reference kept as its id string, `id_list` a list of id strings (HubSpot's associations),
`json` a nested object kept as JSON text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from warehouse_sources.warehouse.state import KeyKind

FieldType = Literal[
    "string", "id", "integer", "number", "boolean", "timestamp", "iso_timestamp", "date", "json", "id_list"
]
FIELD_TYPES: tuple[FieldType, ...] = ("string", "id", "integer", "number", "boolean", "timestamp", "iso_timestamp",
                                      "date", "json", "id_list")  # fmt: skip
Method = Literal["full_table", "incremental", "append_only"]
DELETED_AT = "_ws_deleted_at"  # soft deletes: when the API said the object was deleted or archived


@dataclass(frozen=True)
class ApiField:
    """One top-level field, typed as declared (a `SourceColumn` for the engine's checks)."""

    name: str
    type: FieldType

    @property
    def type_sql(self) -> str:
        return self.type

    @property
    def cursor_kind(self) -> KeyKind | None:
        return "timestamp" if self.type in ("timestamp", "iso_timestamp") else None

    @property
    def is_integer(self) -> bool:
        return self.type == "integer"

    @property
    def is_native_array(self) -> bool:
        return False


@dataclass(frozen=True)
class ObjectSpec:
    """One listable object of an API.

    `created` is the append-only cursor (objects that never change); `updated` the incremental
    one: a field the API reports (HubSpot) or one the dialect fills from its change log (Stripe's
    events). `changes`/`deletions` name what the dialect reads to learn updates and deletions.
    """

    name: str
    path: str
    fields: tuple[ApiField, ...]
    methods: tuple[Method, ...]
    why: str  # why these methods (the README's table)
    key: str = "id"
    created: str | None = "created"
    updated: str | None = None
    params: tuple[tuple[str, str], ...] = ()  # always sent with the listing (Stripe subscriptions: status=all)
    changes: tuple[str, ...] = ()  # what tells a change (Stripe: event types)
    deletions: tuple[str, ...] = ()  # which of those are deletions

    def field(self, name: str) -> ApiField | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def soft_deletes(self) -> bool:
        """Whether rows carry `_ws_deleted_at` (the API tells deletions or archiving of this object)."""
        return bool(self.deletions)


def fields(text: str) -> tuple[ApiField, ...]:
    """`"id amount:integer created:timestamp"` -> fields (no type: string); a compact declaration."""
    out = []
    for word in text.split():
        name, _, kind = word.partition(":")
        kind = kind or "string"
        if kind not in FIELD_TYPES:
            raise ValueError(f"field {name!r}: type {kind!r} is not one of {FIELD_TYPES}")
        out.append(ApiField(name, kind))
    return tuple(out)
