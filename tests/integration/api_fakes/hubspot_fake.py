"""HubSpot's CRM API v3 as documented, over records the tests create, change and archive.

- `GET /crm/v3/objects/<object>`: `limit` (at most 100), `after` (opaque), `properties` (comma
  list), `archived=true|false`; `{"results", "paging": {"next": {"after"}}}`.
- `POST /crm/v3/objects/<object>/search`: one filter group (AND) of `EQ|GT|GTE|LT|LTE` filters
  (date-times as epoch milliseconds), one sort, `limit` (at most 200), `after`; at most 10,000
  results per query: an `after` at or past 10,000 is a 400. Archived records are never found.
  Records sharing a sort value come in id order (HubSpot documents no order for ties).
- `GET /crm/v3/properties/<object>`: each property's `name` and `type` (string, number, datetime,
  date, bool, enumeration, ...); the values are text whatever the type. `GET /crm/v3/owners`.
- Associations (both directions, as HubSpot keeps them): the list endpoint's
  `associations=<to>,<to>` embeds `associations: {<to>: {results: [{id, type}], paging}}` (at most
  EMBEDDED ids, an id once per association type: the first also with a labelled type), left out
  when there are none; `POST /crm/v4/associations/<from>/<to>/batch/read` takes `inputs: [{id,
  after}]` (at most BATCH_INPUTS, else a 400) and answers `{from: {id}, to: [{toObjectId,
  associationTypes}], paging.next.after}` per id (PER_ID a page), an id with none as an
  `OBJECT_NOT_FOUND` error (HTTP 207, as batch answers with errors are). Search returns none.
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
PROPERTIES = {
    "contacts": {"email": "string", "firstname": "string", "lastname": "string", "lifecyclestage": "enumeration"},
    "companies": {"name": "string", "domain": "string", "numberofemployees": "number"},
    "deals": {"dealname": "string", "amount": "number", "dealstage": "enumeration", "closedate": "datetime",
              "hs_is_closed": "bool"},
    "tickets": {"subject": "string", "hs_pipeline_stage": "enumeration"},
}  # fmt: skip
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal", "tickets": "ticket"}
SEARCH_CAP = 10_000
EMBEDDED = 100
BATCH_INPUTS = 100
PER_ID = 100
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
    properties: dict[str, dict[str, str]] = field(
        default_factory=lambda: {name: {"hs_object_id": "number", "createdate": "datetime", key: "datetime",
                                        **PROPERTIES[name]} for name, key in KEYS.items()}
    )  # fmt: skip
    links: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)  # (from, id, to) -> ids

    def associate(self, source: str, sid: str, target: str, tid: str) -> None:
        """Associate two records (HubSpot does not change either record's last-modified date)."""
        for key, other in (((source, sid, target), tid), ((target, tid, source), sid)):
            held = self.links.setdefault(key, [])
            if other not in held:
                held.append(other)

    def dissociate(self, source: str, sid: str, target: str, tid: str) -> None:
        for key, other in (((source, sid, target), tid), ((target, tid, source), sid)):
            if other in self.links.get(key, []):
                self.links[key].remove(other)

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
            defined = self.properties[parts[3]].items()
            return 200, {}, {"results": [{"name": n, "type": t, "fieldType": "text"} for n, t in defined]}
        batch_read = len(parts) == 7 and parts[:3] == ["crm", "v4", "associations"] and parts[5:] == ["batch", "read"]
        if batch_read and method == "POST" and parts[3] in self.records and parts[4] in self.records:
            return self._batch_read(parts[3], parts[4], body)
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
        linked = [t for t in params.get("associations", "").split(",") if t in self.records]
        shown = [self._linked(name, _shown(r, wanted), linked) for r in sorted(found, key=lambda r: int(r["id"]))]
        return _listed(shown, params)

    def _linked(self, name: str, record: dict[str, Any], targets: list[str]) -> dict[str, Any]:
        embedded: dict[str, Any] = {}
        for target in targets:
            ids = self.links.get((name, record["id"], target), [])
            kind = f"{SINGULAR[name]}_to_{SINGULAR[target]}"
            results = [{"id": i, "type": kind} for i in ids[:EMBEDDED]]
            results[1:1] = [{"id": ids[0], "type": f"{kind}_primary"}] if ids else []  # one id, two types
            more = {"paging": {"next": {"after": str(EMBEDDED), "link": "?"}}} if len(ids) > EMBEDDED else {}
            if ids:
                embedded[target] = {"results": results, **more}
        return {**record, "associations": embedded} if embedded else record

    def _batch_read(self, source: str, target: str, body: Any) -> Answer:
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or len(inputs) > BATCH_INPUTS:
            return _error(400, f"inputs must be a list of at most {BATCH_INPUTS} ids", "VALIDATION_ERROR")
        results, errors = [], []
        for item in inputs:
            ids = self.links.get((source, str(item["id"]), target), [])
            start = int(item.get("after") or 0)
            if not ids:
                errors.append(
                    {
                        "status": "error",
                        "category": "OBJECT_NOT_FOUND",
                        "context": {"fromId": [item["id"]]},
                        "message": f"No {target} is associated with {SINGULAR[source]} {item['id']}.",
                    }
                )
                continue
            more = {"paging": {"next": {"after": str(start + PER_ID)}}} if start + PER_ID < len(ids) else {}
            to = [
                {
                    "toObjectId": int(i),
                    "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}],
                }
                for i in ids[start : start + PER_ID]
            ]
            results.append({"from": {"id": str(item["id"])}, "to": to, **more})
        answer = {"status": "COMPLETE", "results": results, **({"errors": errors, "numErrors": len(errors)}
                                                                if errors else {})}  # fmt: skip
        return (207 if errors else 200), {}, answer

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
