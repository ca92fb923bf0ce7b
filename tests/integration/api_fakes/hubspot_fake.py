"""HubSpot's CRM API v3 as documented, over records the tests create, change and archive.

- `GET /crm/v3/objects/<object>`: `limit` (at most 100), `after` (opaque), `properties` (comma
  list), `archived=true|false`; `{"results", "paging": {"next": {"after"}}}`.
- `POST /crm/v3/objects/<object>/search`: one filter group (AND) of `EQ|GT|GTE|LT|LTE` filters
  (date-times as epoch milliseconds), one sort, `limit` (at most 200), `after`; at most 10,000
  results per query: an `after` at or past 10,000 is a 400. Archived records are never found.
  Records sharing a sort value come in id order (HubSpot documents no order for ties).
- `GET /crm/v3/properties/<object>`, `GET /crm/v3/owners`.
- Errors: `{"status": "error", "message", "correlationId", "category"}`.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.api_fakes.http_base import Answer, FakeApi

KEYS = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate", "deals": "hs_lastmodifieddate",
        "tickets": "hs_lastmodifieddate"}  # fmt: skip
PROPERTIES = {"contacts": ("email", "firstname", "lastname", "lifecyclestage"), "companies": ("name", "domain"),
              "deals": ("dealname", "amount", "dealstage"), "tickets": ("subject", "hs_pipeline_stage")}  # fmt: skip
SEARCH_CAP = 10_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def millis(text: str) -> int:
    return (datetime.fromisoformat(text) - EPOCH) // timedelta(milliseconds=1)


@dataclass
class HubSpotStore:
    token: str = "pat-na1-11111111-2222-3333-4444-555555555555"
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {k: {} for k in KEYS})
    owners: list[dict[str, Any]] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(101))

    def create(self, name: str, at: datetime, /, **props: Any) -> dict[str, Any]:
        rid = str(next(self.ids))
        stamp = iso(at)
        record = {"id": rid, "createdAt": stamp, "updatedAt": stamp, "archived": False,
                  "properties": {"hs_object_id": rid, "createdate": stamp, KEYS[name]: stamp, **props}}  # fmt: skip
        self.records[name][rid] = record
        return record

    def update(self, name: str, rid: str, at: datetime, /, **props: Any) -> None:
        record = self.records[name][rid]
        record["updatedAt"] = record["properties"][KEYS[name]] = iso(at)
        record["properties"].update(props)

    def archive(self, name: str, rid: str, at: datetime) -> None:
        record = self.records[name][rid]
        record["archived"], record["archivedAt"] = True, iso(at)

    def restore(self, name: str, rid: str, at: datetime, /, **props: Any) -> None:
        """Un-archive a record (HubSpot keeps its id); restoring counts as a modification."""
        record = self.records[name][rid]
        record["archived"] = False
        record.pop("archivedAt", None)
        self.update(name, rid, at, **props)

    def route(self, method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], body: Any) -> Answer:
        if headers.get("authorization", "") != f"Bearer {self.token}":
            return _error(401, "Authentication credentials not found. This API supports OAuth 2.0 authentication "
                               "and you can find more details at https://developers.hubspot.com/docs/methods/auth/"
                               "oauth-overview", "INVALID_AUTHENTICATION")  # fmt: skip
        params = dict(query)
        parts = path.strip("/").split("/")
        if parts == ["crm", "v3", "owners"] and method == "GET":
            return _listed(self.owners, params)
        if len(parts) == 4 and parts[:3] == ["crm", "v3", "properties"] and parts[3] in self.records:
            names = ("hs_object_id", "createdate", KEYS[parts[3]], *PROPERTIES[parts[3]])
            return 200, {}, {"results": [{"name": n, "type": "string"} for n in names]}
        if len(parts) >= 4 and parts[:3] == ["crm", "v3", "objects"]:
            if parts[3] not in self.records:
                return _error(400, f"Unable to infer object type from: {parts[3]}", "VALIDATION_ERROR")
            if len(parts) == 4 and method == "GET":
                return self._list(parts[3], params)
            if parts[4:] == ["search"] and method == "POST":
                return self._search(parts[3], body)
        return _error(404, f"Not found: {method} {path}", "OBJECT_NOT_FOUND")

    def _list(self, name: str, params: dict[str, str]) -> Answer:
        archived = params.get("archived") == "true"
        found = [r for r in self.records[name].values() if r["archived"] == archived]
        wanted = params.get("properties", "").split(",") if params.get("properties") else None
        return _listed([_shown(r, wanted) for r in sorted(found, key=lambda r: int(r["id"]))], params)

    def _search(self, name: str, body: dict[str, Any]) -> Answer:
        limit, after = int(body.get("limit", 10)), int(body.get("after") or 0)
        if limit > 200:
            return _error(400, "limit must be at most 200", "VALIDATION_ERROR")
        if after >= SEARCH_CAP:
            return _error(400, "Search results are limited to 10,000; use filters to narrow the query",
                          "VALIDATION_ERROR")  # fmt: skip
        found = [r for r in self.records[name].values() if not r["archived"]]
        for group in body.get("filterGroups") or []:
            for f in group["filters"]:
                found = [r for r in found if _matches(r, f)]
        sort = (body.get("sorts") or [{"propertyName": "hs_object_id", "direction": "ASCENDING"}])[0]
        found.sort(key=lambda r: (_sort_value(r, sort["propertyName"]), int(r["id"])),
                   reverse=sort.get("direction") == "DESCENDING")  # fmt: skip
        wanted = list(body.get("properties") or ["hs_object_id", "createdate", KEYS[name]])
        page = [_shown(r, wanted) for r in found[after : after + limit]]
        more = after + limit < len(found)
        return 200, {}, {"total": len(found), "results": page,
                         **({"paging": {"next": {"after": str(after + limit)}}} if more else {})}  # fmt: skip


def _sort_value(record: dict[str, Any], prop: str) -> int:
    value = record["properties"].get(prop)
    return int(value) if prop == "hs_object_id" else millis(value)


def _matches(record: dict[str, Any], rule: dict[str, str]) -> bool:
    have, want = _sort_value(record, rule["propertyName"]), int(rule["value"])
    ops = {"EQ": have == want, "GT": have > want, "GTE": have >= want, "LT": have < want, "LTE": have <= want}
    return ops[rule["operator"]]


def _shown(record: dict[str, Any], wanted: list[str] | None) -> dict[str, Any]:
    props = record["properties"]
    shown = {k: props.get(k) for k in wanted} if wanted else dict(props)
    return {**{k: v for k, v in record.items() if k != "properties"}, "properties": shown}


def _listed(items: list[dict[str, Any]], params: dict[str, str]) -> Answer:
    limit = min(int(params.get("limit", 10)), 100)
    after = int(params.get("after") or 0)
    more = after + limit < len(items)
    return 200, {}, {"results": items[after : after + limit],
                     **({"paging": {"next": {"after": str(after + limit), "link": "?"}}} if more else {})}  # fmt: skip


def _error(status: int, message: str, category: str) -> Answer:
    return status, {}, {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
                        "category": category}  # fmt: skip


def start_hubspot(store: HubSpotStore | None = None) -> tuple[FakeApi, HubSpotStore]:
    store = store or HubSpotStore()
    return FakeApi(store.route).start(), store
