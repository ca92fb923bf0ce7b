"""Stripe's dialect of the REST reader: `starting_after` paging, `created` filters, the events log.

Stripe lists newest first, 100 objects a page at most, and cannot list "updated since": changes
are read from `/v1/events` (`types[]` of the object, `created` bounds), keeping each object's
newest snapshot (`data.object`); a `*.deleted` event sets `_ws_deleted_at`, which the table's
`deletes` turns into the row's removal (hard) or mark (soft). Events are kept 30
days (`window`): an older cursor makes the reader list everything again (sources/rest/reader.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from warehouse_sources.sources.rest.client import ApiClient
from warehouse_sources.sources.rest.errors import ApiDataError
from warehouse_sources.sources.rest.spec import DELETED_AT, ObjectSpec
from warehouse_sources.sources.stripe.objects import CHANGED_AT

PAGE = 100
CHUNK = 5000
Params = list[tuple[str, str]]


def error_text(body: Any) -> str:
    """Stripe's error body `{"error": {"type", "code", "message"}}` -> its message with type and code."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return str(body)[:300]
    kind = ", ".join(str(error[k]) for k in ("type", "code") if error.get(k))
    return f"{error.get('message') or 'no message'}" + (f" [{kind}]" if kind else "")


def _epoch(at: datetime) -> str:
    return str(int(at.timestamp()))


def _bounds(lower: datetime | None, upper: datetime | None) -> Params:
    return ([("created[gte]", _epoch(lower))] if lower else []) + ([("created[lte]", _epoch(upper))] if upper else [])


def _instant(value: Any, path: str) -> datetime:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiDataError(f"Stripe API {path}: 'created' is {value!r}, not epoch seconds; report it as a bug")
    return datetime.fromtimestamp(value, UTC)


class StripeApi:
    service = "Stripe"
    ignored = frozenset({"object"})
    window: timedelta | None = timedelta(days=30)

    def __init__(self, client: ApiClient, page: int = PAGE) -> None:
        self.client = client
        self.page = page

    def close(self) -> None:
        self.client.close()

    def declared(self, spec: ObjectSpec) -> ObjectSpec:
        return spec

    def newest(self, spec: ObjectSpec, key: str, lower: datetime | None) -> datetime | None:
        if key != CHANGED_AT:
            return self._first(spec.path, [*spec.params, *_bounds(lower, None)])
        newest_event = self._first("/v1/events", [*self._types(spec), *_bounds(lower, None)])
        if lower is not None:
            return newest_event
        # A first read lists every object: the cursor is the newest of what it can have seen.
        newest_object = self._first(spec.path, list(spec.params))
        return max((t for t in (newest_event, newest_object) if t is not None), default=None)

    def listing(
        self, spec: ObjectSpec, lower: datetime | None, upper: datetime | None
    ) -> Iterator[list[dict[str, Any]]]:
        for page in self._pages(spec.path, [*spec.params, *_bounds(lower, upper)]):
            if spec.updated:
                for record in page:
                    record[CHANGED_AT] = record.get("created")
            yield page

    def changes(self, spec: ObjectSpec, lower: datetime, upper: datetime | None) -> Iterator[list[dict[str, Any]]]:
        """Each changed object once, as its newest event left it (events come newest first)."""
        newest: dict[str, dict[str, Any]] = {}
        for page in self._pages("/v1/events", [*self._types(spec), *_bounds(lower, upper)]):
            for event in page:
                record = self._snapshot(spec, event)
                newest.setdefault(record[spec.key], record)
        held = list(newest.values())
        for start in range(0, len(held), CHUNK):
            yield held[start : start + CHUNK]

    def _snapshot(self, spec: ObjectSpec, event: dict[str, Any]) -> dict[str, Any]:
        data = event.get("data")
        snapshot = data.get("object") if isinstance(data, dict) else None
        if not isinstance(snapshot, dict) or not isinstance(snapshot.get(spec.key), str):
            raise ApiDataError(
                f"Stripe API /v1/events: event {event.get('id')!r} has no data.object with an id; report it as a bug"
            )
        record = dict(snapshot)
        record[CHANGED_AT] = event.get("created")
        if event.get("type") in spec.deletions:
            record["deleted"] = True
            record[DELETED_AT] = event.get("created")
        return record

    def _types(self, spec: ObjectSpec) -> Params:
        return [("types[]", name) for name in spec.changes]

    def _first(self, path: str, params: Params) -> datetime | None:
        data = self._data(self.client.get(path, [*params, ("limit", "1")]), path)
        return _instant(data[0].get("created"), path) if data else None

    def _pages(self, path: str, params: Params) -> Iterator[list[dict[str, Any]]]:
        after: str | None = None
        while True:
            body = self.client.get(
                path, [*params, ("limit", str(self.page)), *([("starting_after", after)] if after else [])]
            )
            data = self._data(body, path)
            if data:
                yield data
            if not data or not body.get("has_more"):
                return
            after = data[-1]["id"]

    @staticmethod
    def _data(body: dict[str, Any], path: str) -> list[dict[str, Any]]:
        data = body.get("data")
        if not isinstance(data, list) or not all(isinstance(d, dict) and isinstance(d.get("id"), str) for d in data):
            raise ApiDataError(
                f"Stripe API {path}: the page is not a list of objects with ids ({str(body)[:120]!r}); check the "
                "connection's host is Stripe's API (or a proxy that passes it through)"
            )
        return data
