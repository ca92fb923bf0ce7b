"""HubSpot's dialect of the REST reader: CRM list paging (`after`), search windows, archived records.

Full reads list `/crm/v3/objects/<object>` (100 a page, `paging.next.after`). Cursor reads search
(`POST .../search`) with `GTE` on the cursor property, sorted ascending. A search reaches 10,000
results at most: a window that fills is cut at its last value and the next window starts there
(`GTE`, so records sharing that value are read again, never skipped; ids already read are
dropped); where one value alone holds 10,000 records, they are listed by id (`EQ` the value,
`hs_object_id` `GT` the last id read) and the next window starts above it (`GT`). Never a loop:
every window starts past the previous one. Archived records (HubSpot's deletions) come from the
list endpoint with `archived=true`. Property values are typed as the properties endpoint declares
them (sources/hubspot/values.py); the chosen associations become id-list columns
(sources/hubspot/associations.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from warehouse_sources.sources.hubspot.associations import batch_read, column, embedded, sorted_ids
from warehouse_sources.sources.hubspot.values import HUBSPOT_NAMES, field_type, parse
from warehouse_sources.sources.rest.client import ApiClient
from warehouse_sources.sources.rest.errors import ApiDataError
from warehouse_sources.sources.rest.spec import DELETED_AT, ApiField, FieldType, ObjectSpec

LIST_PAGE = 100
SEARCH_PAGE = 200
SEARCH_CAP = 10_000
ID = "hs_object_id"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Filter = dict[str, str]
Pages = Iterator[list[dict[str, Any]]]


def error_text(body: Any) -> str:
    """HubSpot's `{"status": "error", "message", "category", "correlationId"}` -> its message and ids."""
    if not isinstance(body, dict):
        return str(body)[:300]
    extra = ", ".join(f"{k} {body[k]}" for k in ("category", "correlationId") if body.get(k))
    return f"{body.get('message') or 'no message'}" + (f" [{extra}]" if extra else "")


def millis(at: datetime) -> str:
    return str((at - EPOCH) // timedelta(milliseconds=1))


def instant(text: Any, where: str) -> datetime:
    try:
        return datetime.fromisoformat(str(text)).astimezone(UTC)
    except ValueError:
        raise ApiDataError(f"HubSpot API {where}: {text!r} is not an ISO 8601 date-time; report it as a bug") from None


@dataclass
class Cut:
    """How one search ended: its last record, and whether it stopped at the 10,000-result cap."""

    last: dict[str, Any] | None = None
    capped: bool = False


class HubSpotApi:
    service = "HubSpot"
    ignored: frozenset[str] = frozenset()
    window: timedelta | None = None

    def __init__(
        self,
        client: ApiClient,
        properties: dict[str, tuple[str, ...]] | None = None,
        *,
        associations: dict[str, tuple[str, ...]] | None = None,
        text_properties: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.client = client
        self._chosen = properties or {}
        self._links = associations or {}
        self._text = text_properties or {}
        self._properties: dict[str, list[str]] = {}
        self._types: dict[str, dict[str, FieldType]] = {}  # object -> its typed properties (not text)

    def close(self) -> None:
        self.client.close()

    def declared(self, spec: ObjectSpec) -> ObjectSpec:
        """The object's fields with its properties (the chosen ones, or every one the account defines),
        each typed as the properties endpoint declares it, then the chosen associations' id lists."""
        if spec.created is None:
            return spec
        body = self.client.get(f"/crm/v3/properties/{spec.name}")
        defined = {p["name"]: field_type(p.get("type")) for p in self._results(body, "properties")
                   if isinstance(p.get("name"), str)}  # fmt: skip
        as_text = set(self._text.get(spec.name, ()))
        kinds = {n: "string" if n in as_text else kind for n, kind in defined.items()}
        chosen = self._chosen.get(spec.name) or tuple(defined)
        cursors = [k for k in (spec.created, spec.updated) if k]
        names = self._properties[spec.name] = sorted({*chosen, *cursors})
        self._types[spec.name] = {n: kinds[n] for n in names if kinds.get(n, "string") != "string"}
        extra = tuple(ApiField(n, kinds.get(n, "string")) for n in names if spec.field(n) is None)
        links = tuple(ApiField(column(to), "id_list") for to in self._links.get(spec.name, ()))
        return replace(spec, fields=spec.fields + extra + tuple(f for f in links if spec.field(f.name) is None))

    def newest(self, spec: ObjectSpec, key: str, lower: datetime | None) -> datetime | None:
        filters = [{"propertyName": key, "operator": "GTE", "value": millis(lower)}] if lower else []
        body = self.client.post(f"{spec.path}/search", {"filterGroups": [{"filters": filters}] if filters else [],
                                "sorts": [{"propertyName": key, "direction": "DESCENDING"}], "properties": [key],
                                "limit": 1})  # fmt: skip
        results = self._results(body, spec.path)
        value = results[0].get("properties", {}).get(key) if results else None
        return instant(value, spec.path) if value else None

    def listing(self, spec: ObjectSpec, lower: datetime | None, upper: datetime | None) -> Pages:
        if spec.created is None or (lower is None and upper is None):
            return self._list(spec, archived=False)
        return self._linked(spec, self._windows(spec, spec.created, lower, upper))

    def changes(self, spec: ObjectSpec, lower: datetime, upper: datetime | None) -> Pages:
        assert spec.updated is not None
        yield from self._linked(spec, self._windows(spec, spec.updated, lower, upper))
        for page in self._list(spec, archived=True):  # archived since the cursor: soft deleted
            gone = [r for r in page if r.get("archivedAt") and instant(r["archivedAt"], spec.path) >= lower]
            for record in gone:
                record[DELETED_AT] = record["archivedAt"]
            if gone:
                yield gone

    def _windows(self, spec: ObjectSpec, key: str, lower: datetime | None, upper: datetime | None) -> Pages:
        seen: set[str] = set()
        start, op = lower, "GTE"
        while True:
            cut = Cut()
            yield from _fresh(self._search(spec, self._range(key, start, op, upper), key, cut), seen)
            if not cut.capped or cut.last is None:
                return
            value = instant(cut.last[key], spec.path)
            if start is not None and value == start and op == "GTE":  # 10,000 records share one value
                yield from _fresh(self._by_id(spec, key, value, upper), seen)
                op = "GT"
            else:
                op = "GTE"
            start = value

    def _by_id(self, spec: ObjectSpec, key: str, value: datetime, upper: datetime | None) -> Pages:
        last = "0"
        while True:
            cut = Cut()
            filters = [{"propertyName": key, "operator": "EQ", "value": millis(value)},
                       {"propertyName": ID, "operator": "GT", "value": last}]  # fmt: skip
            yield from self._search(spec, filters, ID, cut)
            if not cut.capped or cut.last is None:
                return
            last = str(cut.last["id"])

    @staticmethod
    def _range(key: str, start: datetime | None, op: str, upper: datetime | None) -> list[Filter]:
        filters = [{"propertyName": key, "operator": op, "value": millis(start)}] if start else []
        return filters + ([{"propertyName": key, "operator": "LTE", "value": millis(upper)}] if upper else [])

    def _search(self, spec: ObjectSpec, filters: list[Filter], sort: str, cut: Cut) -> Pages:
        after = 0
        while True:
            body = {"filterGroups": [{"filters": filters}] if filters else [], "limit": SEARCH_PAGE,
                    "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
                    "properties": self._properties.get(spec.name, [])}  # fmt: skip
            if after:
                body["after"] = str(after)
            answer = self.client.post(f"{spec.path}/search", body)
            page = [self._row(spec, r) for r in self._results(answer, f"{spec.path}/search")]
            if page:
                cut.last = page[-1]
                yield page
            following = (answer.get("paging") or {}).get("next", {}).get("after")
            if not page or not following:
                return
            after = int(following)
            if after >= SEARCH_CAP:
                cut.capped = True
                return

    def _list(self, spec: ObjectSpec, archived: bool) -> Pages:
        after: str | None = None
        params = [("limit", str(LIST_PAGE)), ("archived", "true" if archived else "false")]
        if spec.name in self._properties:
            params.append(("properties", ",".join(self._properties[spec.name])))
        wanted = () if archived else self._links.get(spec.name, ())  # archived: lists not asked for, left NULL
        if wanted:
            params.append(("associations", ",".join(wanted)))
        while True:
            answer = self.client.get(spec.path, params + ([("after", after)] if after else []))
            records = self._results(answer, spec.path)
            page = [self._row(spec, r) for r in records]
            for to in wanted:  # embedded in the page; a list with more pages is read again in full
                links, paged = embedded(records, to)
                if paged:
                    links.update(batch_read(self.client, spec.name, to, paged))
                for row in page:
                    row[column(to)] = sorted_ids(links.get(row["id"], ()))
            if page:
                yield page
            after = (answer.get("paging") or {}).get("next", {}).get("after")
            if not page or not after:
                return

    def _linked(self, spec: ObjectSpec, pages: Pages) -> Pages:
        """Search pages with the chosen associations, read in batches (search returns none)."""
        wanted = self._links.get(spec.name, ())
        for page in pages:
            for to in wanted:
                links = batch_read(self.client, spec.name, to, [r["id"] for r in page])
                for row in page:
                    row[column(to)] = sorted_ids(links.get(row["id"], ()))
            yield page

    def _row(self, spec: ObjectSpec, record: dict[str, Any]) -> dict[str, Any]:
        """One record as a row, its properties in their declared types; a value that is not its type fails."""
        row = _flat(record)
        for name, kind in self._types.get(spec.name, {}).items():
            if name in row:
                try:
                    row[name] = parse(kind, row[name])
                except ValueError as exc:
                    raise ApiDataError(
                        f"HubSpot {spec.name} {row['id']}: property {name!r} is of type {HUBSPOT_NAMES[kind]} (the "
                        f"properties endpoint says so) but holds {str(row[name])[:80]!r} ({exc}); nothing was changed "
                        "or written. To keep it as text, add it to the table's text_properties"
                    ) from None
        return row

    @staticmethod
    def _results(body: dict[str, Any], path: str) -> list[dict[str, Any]]:
        results = body.get("results")
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise ApiDataError(
                f"HubSpot API {path}: the answer has no list of results ({str(body)[:120]!r}); check the "
                "connection's host is HubSpot's API (or a proxy that passes it through)"
            )
        return results


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """A CRM record's top-level fields and its properties as one row (owners have no properties)."""
    if not isinstance(record.get("id"), str):
        raise ApiDataError(
            f"HubSpot API: a page holds a record without a string id ({str(record)[:120]!r}); check the "
            "connection's host is HubSpot's API (or a proxy that passes it through)"
        )
    properties = record.get("properties")
    flat = {k: v for k, v in record.items() if k not in ("properties", "associations")}
    return {**(properties if isinstance(properties, dict) else {}), **flat}


def _fresh(pages: Pages, seen: set[str]) -> Pages:
    """Records not read before in this run (windows overlap at their edges by design)."""
    for page in pages:
        fresh = [r for r in page if r["id"] not in seen]
        seen.update(r["id"] for r in fresh)
        if fresh:
            yield fresh
