"""HubSpot associations as id lists: a deal's contacts and companies as `associated_contacts`, ...

Two documented ways, one per read path. The list endpoint embeds them when asked
(`GET /crm/v3/objects/deals?associations=contacts,companies` -> each record's
`associations: {contacts: {results: [{id, type}], paging}}`); an embedded list that has a next
page is read again in full with the batch read. CRM search returns none, so its pages ask the v4
batch read (`POST /crm/v4/associations/<from>/<to>/batch/read`, `inputs: [{id, after}]`, at
most BATCH ids a request), following each id's `paging.next.after`. An id the batch read
reports as not found has none. Each column holds the associated ids once, sorted (numerically,
as HubSpot's ids are digits), an empty list when there are none.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from warehouse_sources.sources.rest.client import ApiClient
from warehouse_sources.sources.rest.errors import ApiDataError

BATCH = 100  # HubSpot's changelog names 100 and 1,000 as the batch read's limit: 100 meets both
NONE_FOUND = "OBJECT_NOT_FOUND"  # the category of a batch read error for an id with no associations
Links = dict[str, set[str]]  # record id -> associated ids (of one object type)


def column(to: str) -> str:
    return f"associated_{to}"


def sorted_ids(ids: Iterable[str]) -> list[str]:
    return sorted(set(ids), key=lambda i: (len(i), i))


def embedded(records: list[dict[str, Any]], to: str) -> tuple[Links, list[str]]:
    """The ids a list page embeds per record, and the records whose list has more pages (read again)."""
    links: Links = {}
    paged: list[str] = []
    for record in records:
        entry = (record.get("associations") or {}).get(to) or {}
        results = entry.get("results") or []
        if not isinstance(results, list) or not all(isinstance(r, dict) and "id" in r for r in results):
            raise ApiDataError(f"HubSpot API: record {record.get('id')!r} has associations to {to} in a form "
                               f"HubSpot does not document ({str(entry)[:120]!r}); report it as a bug")  # fmt: skip
        links[record["id"]] = {str(r["id"]) for r in results}
        if (entry.get("paging") or {}).get("next"):
            paged.append(record["id"])
    return links, paged


def batch_read(client: ApiClient, source: str, to: str, ids: list[str]) -> Links:
    """Every `to` id associated with each of `ids`, through the v4 batch read and its per-id paging."""
    path = f"/crm/v4/associations/{source}/{to}/batch/read"
    links: Links = {i: set() for i in ids}
    for start in range(0, len(ids), BATCH):
        inputs: list[dict[str, str]] = [{"id": i} for i in ids[start : start + BATCH]]
        while inputs:
            answer = client.post(path, {"inputs": inputs})
            _refused(answer, path)
            inputs = []
            for result in _results(answer, path):
                source_id = str(result["from"]["id"])
                links.setdefault(source_id, set()).update(str(t["toObjectId"]) for t in result["to"])
                after = ((result.get("paging") or {}).get("next") or {}).get("after")
                if after:
                    inputs.append({"id": source_id, "after": str(after)})
    return links


def _results(answer: dict[str, Any], path: str) -> list[dict[str, Any]]:
    results = answer.get("results")
    well_formed = isinstance(results, list) and all(
        isinstance(r, dict) and isinstance(r.get("from"), dict) and "id" in r["from"] and isinstance(r.get("to"), list)
        and all(isinstance(t, dict) and "toObjectId" in t for t in r["to"]) for r in results
    )  # fmt: skip
    if not well_formed:
        raise ApiDataError(f"HubSpot API {path}: the answer is not a batch of associations "
                           f"({str(answer)[:120]!r}); check the connection's host is HubSpot's API (or a proxy that "
                           "passes it through)")  # fmt: skip
    assert isinstance(results, list)
    return results


def _refused(answer: dict[str, Any], path: str) -> None:
    """A batch error other than 'none found' (a missing scope, ...) fails the read: no list is guessed empty."""
    for error in answer.get("errors") or []:
        if not isinstance(error, dict) or error.get("category") != NONE_FOUND:
            text = error.get("message") if isinstance(error, dict) else error
            raise ApiDataError(f"HubSpot API {path}: the batch read reported {str(text)[:300]!r}; the associations "
                               "cannot be read (check the private app's read scopes on both objects)")  # fmt: skip
