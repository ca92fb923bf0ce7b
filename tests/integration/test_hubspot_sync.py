"""`kind: hubspot` end to end: the REST reader against a local HubSpot CRM over real HTTP, into Delta."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from deltalake import DeltaTable

from tests.integration.api_fakes.http_base import FakeApi
from tests.integration.api_fakes.hubspot_fake import HubSpotStore, start_hubspot
from warehouse_sources.config.api_models import HubSpotSource
from warehouse_sources.config.api_options import ApiOptions
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.plan import TablePlan, plan_source
from warehouse_sources.sources.hubspot import open_hubspot
from warehouse_sources.sources.rest.errors import ApiRequestError

pytestmark = pytest.mark.integration
LOG = logging.getLogger("warehouse_sources.tests.hubspot")
Fake = tuple[FakeApi, HubSpotStore]
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)


@pytest.fixture
def hubspot() -> Iterator[Fake]:
    api, store = start_hubspot()
    yield api, store
    api.stop()


def table(name: str, method: str, **options: Any) -> TablePlan:
    """The object's plan as a source YAML makes it (the kind's defaults: its key, deletes: hard)."""
    entry = {"name": name, "sync": method, **options}
    return plan_source(HubSpotSource.model_validate({"name": "crm", "kind": "hubspot", "conn_id": "hubspot_api",
                                                     "tables": [entry]})).tables[0]  # fmt: skip


def sync(fake: Fake, warehouse: str, tp: TablePlan, token: str | None = None, **options: Any) -> SyncResult:
    api, store = fake
    chosen = ApiOptions(properties=options) if options else None
    with open_hubspot(api.url, token or store.token, source="crm", budget=5, options=chosen) as reader:
        return sync_table(reader, SyncRequest(table=tp, warehouse_uri=warehouse, run_id="test"), LOG)


def rows(warehouse: str, name: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in DeltaTable(f"{warehouse}/{name}").to_pyarrow_table().to_pylist()}


def contacts(store: HubSpotStore, count: int, at: datetime = T0, step: timedelta = timedelta(seconds=1)) -> list[str]:
    return [store.create("contacts", at + i * step, email=f"c{i}@example.com", firstname=f"C{i}")["id"]
            for i in range(count)]  # fmt: skip


def search_requests(api: FakeApi) -> int:
    return sum(1 for method, target in api.requests if method == "POST" and target.endswith("/search"))


def test_full_table_lists_live_records_with_their_properties_as_columns(hubspot: Fake, warehouse: str) -> None:
    api, store = hubspot
    ids = contacts(store, 250)
    store.archive("contacts", ids[0], T0 + timedelta(days=1))
    result = sync(hubspot, warehouse, table("contacts", "full_table"))
    got = rows(warehouse, "contacts")
    assert result.rows == 249 and ids[0] not in got
    assert got[ids[1]]["email"] == "c1@example.com" and got[ids[1]]["lifecyclestage"] is None
    assert got[ids[1]]["lastmodifieddate"] == T0 + timedelta(seconds=1)  # a UTC timestamp, not text


def test_chosen_properties_are_the_only_property_columns(hubspot: Fake, warehouse: str) -> None:
    contacts(hubspot[1], 3)
    sync(hubspot, warehouse, table("contacts", "full_table"), contacts=("email",))
    names = set(DeltaTable(f"{warehouse}/contacts").schema().to_arrow().names)
    assert "email" in names and "firstname" not in names and "lastmodifieddate" in names


@pytest.mark.parametrize("deletes", ["hard", "soft"])
def test_incremental_merges_changes_and_removes_or_marks_archived_records(
    hubspot: Fake, warehouse: str, deletes: str
) -> None:
    api, store = hubspot
    ids = contacts(store, 30)
    tp = table("contacts", "incremental", **({"deletes": "soft"} if deletes == "soft" else {}))
    assert tp.deletes == deletes  # hard unless the table says soft
    sync(hubspot, warehouse, tp)
    later = T0 + timedelta(days=1)
    store.update("contacts", ids[4], later, firstname="Changed")
    store.archive("contacts", ids[7], later)
    new = store.create("contacts", later, email="new@example.com")["id"]
    second = sync(hubspot, warehouse, tp)
    got = rows(warehouse, "contacts")
    assert second.write == "merge" and second.deleted == 1
    assert got[ids[4]]["firstname"] == "Changed" and got[new]["email"] == "new@example.com"
    if deletes == "hard":
        assert len(got) == 30 and ids[7] not in got
    else:
        assert len(got) == 31 and got[ids[7]]["archived"] is True and got[ids[7]]["_ws_deleted_at"] == later
    assert got[ids[8]]["_ws_deleted_at"] is None
    store.restore("contacts", ids[7], later + timedelta(hours=1), firstname="Restored")
    sync(hubspot, warehouse, tp)
    back = rows(warehouse, "contacts")[ids[7]]
    assert (back["firstname"], back["archived"], back["_ws_deleted_at"]) == ("Restored", False, None)


def test_more_than_10000_changes_are_read_in_windows_without_loss_or_duplicates(hubspot: Fake, warehouse: str) -> None:
    api, store = hubspot
    first = contacts(store, 5)
    tp = table("contacts", "incremental")
    sync(hubspot, warehouse, tp)
    more = contacts(store, 10_450, at=T0 + timedelta(days=1), step=timedelta(milliseconds=10))
    result = sync(hubspot, warehouse, tp)
    got = rows(warehouse, "contacts")
    assert result.rows == 10_451 and set(got) == set(first) | set(more)  # and the record at the old cursor


def test_more_than_10000_records_sharing_one_timestamp_are_listed_by_id(hubspot: Fake, warehouse: str) -> None:
    api, store = hubspot
    contacts(store, 3)
    tp = table("contacts", "incremental")
    sync(hubspot, warehouse, tp)
    bulk = contacts(store, 10_300, at=T0 + timedelta(days=1), step=timedelta(0))  # one bulk update's timestamp
    after = contacts(store, 20, at=T0 + timedelta(days=2))
    before = search_requests(api)
    result = sync(hubspot, warehouse, tp)
    assert result.rows == 10_321 and set(bulk) | set(after) <= set(rows(warehouse, "contacts"))
    assert search_requests(api) - before < 200  # two windows of 50 pages, the ids in 52, the rest: no loop


def test_append_only_on_createdate_keeps_ties_at_the_cursor(hubspot: Fake, warehouse: str) -> None:
    api, store = hubspot
    ids = contacts(store, 20, step=timedelta(0))
    tp = table("contacts", "append_only")
    assert sync(hubspot, warehouse, tp).rows == 20
    store.create("contacts", T0, email="late@example.com")
    assert sync(hubspot, warehouse, tp).rows == 1
    assert sync(hubspot, warehouse, tp).rows == 0
    assert len(rows(warehouse, "contacts")) == 21 and set(ids) <= set(rows(warehouse, "contacts"))


def test_owners_are_listed(hubspot: Fake, warehouse: str) -> None:
    api, store = hubspot
    store.owners.extend({"id": str(i), "email": f"o{i}@example.com", "firstName": "O", "lastName": str(i),
                         "userId": i, "teams": [], "archived": False, "createdAt": "2024-01-01T00:00:00.000Z",
                         "updatedAt": "2024-01-02T00:00:00.000Z"} for i in range(130))  # fmt: skip
    assert sync(hubspot, warehouse, table("owners", "full_table")).rows == 130


def test_a_wrong_token_fails_at_once_with_hubspots_message_and_no_token(hubspot: Fake, warehouse: str) -> None:
    token = "pat-na1-99999999-wrong"
    with pytest.raises(ApiRequestError) as caught:
        sync(hubspot, warehouse, table("contacts", "full_table"), token=token)
    text = str(caught.value)
    assert "HTTP 401" in text and "Authentication credentials not found" in text and "correlationId" in text
    assert token not in text and "99999999" not in text
