"""`kind: hubspot` end to end: the REST reader against a local HubSpot CRM over real HTTP, into Delta."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from tests.integration.api_fakes.http_base import FakeApi
from tests.integration.api_fakes.hubspot_fake import HubSpotStore, start_hubspot
from warehouse_sources.config.api_models import HubSpotSource
from warehouse_sources.config.api_options import ApiOptions
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.plan import TablePlan, plan_source
from warehouse_sources.sources.hubspot import open_hubspot
from warehouse_sources.sources.rest.errors import ApiDataError, ApiRequestError
from warehouse_sources.warehouse.schema import canonical

pytestmark = pytest.mark.integration
LOG = logging.getLogger("warehouse_sources.tests.hubspot")
Fake = tuple[FakeApi, HubSpotStore]
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)


@pytest.fixture
def hubspot() -> Iterator[Fake]:
    api, store = start_hubspot()
    yield api, store
    api.stop()


def source(name: str, method: str, **options: Any) -> HubSpotSource:
    entry = {"name": name, "sync": method, **options}
    return HubSpotSource.model_validate({"name": "crm", "kind": "hubspot", "conn_id": "hubspot_api",
                                         "tables": [entry]})  # fmt: skip


def table(name: str, method: str, **options: Any) -> TablePlan:
    """The object's plan as a source YAML makes it (the kind's defaults: its key, deletes: hard)."""
    return plan_source(source(name, method, **options)).tables[0]


def sync(
    fake: Fake, warehouse: str, tp: TablePlan, token: str | None = None, chosen: ApiOptions | None = None,
    **properties: Any,
) -> SyncResult:  # fmt: skip
    api, store = fake
    chosen = chosen or (ApiOptions(properties=properties) if properties else None)
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


def planned(name: str, method: str, **options: Any) -> tuple[TablePlan, ApiOptions]:
    """The table's plan and the reader options its source file gives (associations, text_properties)."""
    crm = source(name, method, **options)
    return plan_source(crm).tables[0], crm.reader_options()


def column_type(warehouse: str, name: str, column: str) -> pa.DataType:
    return canonical(pa.schema(DeltaTable(f"{warehouse}/{name}").schema().to_arrow()).field(column).type)


def batch_reads(api: FakeApi) -> int:
    return sum(1 for method, target in api.requests if method == "POST" and "/crm/v4/associations/" in target)


def test_associations_are_sorted_id_lists_on_first_incremental_and_full_runs(hubspot: Fake, warehouse: str) -> None:
    api, store = hubspot
    people = contacts(store, 260)
    firms = [store.create("companies", T0, name=f"F{i}")["id"] for i in range(2)]
    deals = [store.create("deals", T0 + timedelta(seconds=i), dealname=f"D{i}", amount="10")["id"] for i in range(3)]
    for person in reversed(people[:2]):
        store.associate("deals", deals[0], "contacts", person)
    store.associate("deals", deals[0], "companies", firms[1])
    for person in people[10:260]:  # more than one embedded list and one batch-read page hold
        store.associate("deals", deals[2], "contacts", person)
    tp, chosen = planned("deals", "incremental", associations=["contacts", "companies"])
    sync(hubspot, warehouse, tp, chosen=chosen)  # the first run lists: embedded, the long list read again
    got = rows(warehouse, "deals")
    assert got[deals[0]]["associated_contacts"] == people[:2] and got[deals[0]]["associated_companies"] == [firms[1]]
    assert got[deals[1]]["associated_contacts"] == [] and got[deals[1]]["associated_companies"] == []
    assert got[deals[2]]["associated_contacts"] == sorted(people[10:260], key=int)
    assert column_type(warehouse, "deals", "associated_contacts") == pa.list_(pa.string())

    later = T0 + timedelta(days=1)
    store.associate("deals", deals[1], "contacts", people[5])
    store.update("deals", deals[1], later, dealname="changed")
    store.associate("deals", deals[2], "contacts", people[3])
    store.update("deals", deals[2], later)
    store.dissociate("deals", deals[0], "contacts", people[1])  # no change to the deal's last-modified date
    before = batch_reads(api)
    second = sync(hubspot, warehouse, tp, chosen=chosen)  # search: the batch read, its per-id paging
    got = rows(warehouse, "deals")
    assert second.write == "merge" and batch_reads(api) - before >= 4  # 2 objects, the 251 ids in 3 pages
    assert got[deals[1]]["associated_contacts"] == [people[5]] and got[deals[1]]["dealname"] == "changed"
    assert got[deals[2]]["associated_contacts"] == sorted([people[3], *people[10:260]], key=int)
    assert got[deals[0]]["associated_contacts"] == people[:2]  # HubSpot's limitation: not seen until it changes

    full, _ = planned("deals", "full_table", associations=["contacts", "companies"])
    sync(hubspot, warehouse, full, chosen=chosen)
    got = rows(warehouse, "deals")
    assert got[deals[0]]["associated_contacts"] == [people[0]] and len(got[deals[2]]["associated_contacts"]) == 251
    with duckdb.connect() as db:
        table_ = DeltaTable(f"{warehouse}/deals").to_pyarrow_table()  # noqa: F841 (read by name below)
        found = db.sql(f"SELECT id FROM table_ WHERE list_contains(associated_contacts, '{people[5]}')").fetchall()
    assert found == [(deals[1],)]


def test_an_archived_record_kept_under_soft_deletes_has_no_lists(hubspot: Fake, warehouse: str) -> None:
    api, store = hubspot
    person = contacts(store, 1)[0]
    deals = [store.create("deals", T0 + timedelta(seconds=i), dealname=f"D{i}")["id"] for i in range(2)]
    for deal in deals:
        store.associate("deals", deal, "contacts", person)
    tp, chosen = planned("deals", "incremental", deletes="soft", associations=["contacts"])
    sync(hubspot, warehouse, tp, chosen=chosen)
    store.archive("deals", deals[0], T0 + timedelta(days=1))
    sync(hubspot, warehouse, tp, chosen=chosen)
    got = rows(warehouse, "deals")
    assert got[deals[0]]["_ws_deleted_at"] is not None and got[deals[0]]["associated_contacts"] is None
    assert got[deals[1]]["associated_contacts"] == [person]


def test_associations_are_refused_on_owners_and_named_once() -> None:
    with pytest.raises(ValueError, match="applies to CRM objects"):
        source("owners", "full_table", associations=["contacts"])
    with pytest.raises(ValueError, match="names an object twice"):
        source("deals", "full_table", associations=["contacts", "contacts"])


def test_properties_are_typed_as_the_properties_endpoint_declares_them(hubspot: Fake, warehouse: str) -> None:
    api, store = hubspot
    store.properties["deals"].update(launch="date", reviewed="date")
    deal = store.create("deals", T0, dealname="Big", amount="1500.50", closedate="2024-03-01T12:30:00.250Z",
                        hs_is_closed="true", dealstage="closedwon", launch="2024-03-01",
                        reviewed="1709251200000")["id"]  # fmt: skip
    empty = store.create("deals", T0 + timedelta(seconds=1), dealname="Empty", amount="", hs_is_closed="false")["id"]
    tp = table("deals", "incremental")
    sync(hubspot, warehouse, tp)
    types = {
        n: column_type(warehouse, "deals", n) for n in ("amount", "closedate", "hs_is_closed", "launch", "dealstage")
    }
    assert types["amount"] == pa.float64() and types["hs_is_closed"] == pa.bool_() and types["launch"] == pa.date32()
    assert types["closedate"] == pa.timestamp("us", tz="UTC") and types["dealstage"] == pa.string()  # enumeration
    got = rows(warehouse, "deals")
    big = got[deal]
    assert (big["amount"], big["hs_is_closed"], big["dealstage"]) == (1500.5, True, "closedwon")
    assert big["closedate"] == datetime(2024, 3, 1, 12, 30, 0, 250_000, tzinfo=UTC)
    assert big["launch"] == big["reviewed"] == date(2024, 3, 1)  # ISO date and midnight-UTC milliseconds alike
    assert got[empty]["amount"] is None and got[empty]["hs_is_closed"] is False

    store.properties["deals"]["score"] = "number"  # a property defined since: a new, typed column
    store.update("deals", deal, T0 + timedelta(days=1), score="0.25")
    sync(hubspot, warehouse, tp)
    assert rows(warehouse, "deals")[deal]["score"] == 0.25
    assert column_type(warehouse, "deals", "score") == pa.float64()


@pytest.mark.parametrize(
    ("kind", "value"),
    [("number", "12,5"), ("number", "12345678901234567890"), ("bool", "yes"), ("date", "2024-03-01T12:00:00Z"),
     ("datetime", "2024-03-01 noon"), ("datetime", "2024-03-01T12:00:00")],
)  # fmt: skip
def test_a_value_that_is_not_its_declared_type_fails_the_sync_unless_kept_as_text(
    hubspot: Fake, warehouse: str, kind: str, value: str
) -> None:
    api, store = hubspot
    store.properties["deals"]["odd"] = kind
    good = store.create("deals", T0, dealname="fine", odd=None)["id"]
    bad = store.create("deals", T0 + timedelta(seconds=1), dealname="odd", odd=value)["id"]
    with pytest.raises(ApiDataError) as caught:
        sync(hubspot, warehouse, table("deals", "full_table"))
    text = str(caught.value)
    assert f"deals {bad}" in text and "'odd'" in text and f"type {kind}" in text and repr(value) in text
    assert "text_properties" in text and not DeltaTable.is_deltatable(f"{warehouse}/deals")  # nothing written
    tp, chosen = planned("deals", "full_table", text_properties=["odd"])
    sync(hubspot, warehouse, tp, chosen=chosen)
    got = rows(warehouse, "deals")
    assert got[bad]["odd"] == value and got[good]["odd"] is None
