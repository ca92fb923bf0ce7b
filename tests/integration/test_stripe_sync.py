"""`kind: stripe` end to end: the REST reader against a local Stripe over real HTTP, into Delta."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from deltalake import DeltaTable

from tests.integration.api_fakes.http_base import FakeApi
from tests.integration.api_fakes.stripe_data import fill
from tests.integration.api_fakes.stripe_fake import StripeStore, start_stripe
from tests.plans import plan
from warehouse_sources.config.api_models import StripeSource
from warehouse_sources.engine.progress import SyncHooks
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.errors import SourceConnectionError, TableNotFoundError
from warehouse_sources.plan import TablePlan, plan_source
from warehouse_sources.sources.rest.errors import ApiDataError, ApiRequestError
from warehouse_sources.sources.stripe import open_stripe

pytestmark = pytest.mark.integration
LOG = logging.getLogger("warehouse_sources.tests.stripe")
Fake = tuple[FakeApi, StripeStore]


@pytest.fixture
def stripe() -> Iterator[Fake]:
    api, store = start_stripe()
    yield api, store
    api.stop()


def table(name: str, method: str, **options: Any) -> TablePlan:
    """The object's plan as a source YAML makes it (the kind's defaults: its key, deletes: hard)."""
    entry = {"name": name, "sync": method, **options}
    return plan_source(StripeSource.model_validate({"name": "pay", "kind": "stripe", "conn_id": "stripe_api",
                                                    "tables": [entry]})).tables[0]  # fmt: skip


def sync(fake: Fake, warehouse: str, tp: TablePlan, key: str | None = None, budget: float = 5, **kw: Any) -> SyncResult:
    api, store = fake
    with open_stripe(api.url, key or store.key, source="pay", budget=budget) as reader:
        request = SyncRequest(table=tp, warehouse_uri=warehouse, run_id="test", **kw)
        return sync_table(reader, request, LOG)


def rows(warehouse: str, name: str, synced_at: bool = True) -> dict[str, dict[str, Any]]:
    found = DeltaTable(f"{warehouse}/{name}").to_pyarrow_table().to_pylist()
    return {r["id"]: {k: v for k, v in r.items() if synced_at or k != "_ws_synced_at"} for r in found}


def test_full_table_lists_every_object_in_declared_types(stripe: Fake, warehouse: str) -> None:
    made = fill(stripe[1], "charges", 250)
    result = sync(stripe, warehouse, table("charges", "full_table"))
    assert (result.rows, result.write) == (250, "overwrite")
    got = rows(warehouse, "charges")
    first = got[made[0]["id"]]
    assert first["amount"] == made[0]["amount"] and first["currency"] == made[0]["currency"]
    assert first["created"] == datetime.fromtimestamp(made[0]["created"], UTC)
    assert first["payment_intent"] == made[0]["payment_intent"]["id"]  # an expandable reference keeps its id
    assert first["billing_details"].startswith('{"name":"Buyer 0"')  # nested objects as JSON text
    pages = [t for m, t in stripe[0].requests if t.startswith("/v1/charges") and "limit=100" in t]
    assert len(pages) == 3


def test_incremental_merges_events_and_removes_deleted_objects(stripe: Fake, warehouse: str) -> None:
    api, store = stripe
    made = fill(store, "customers", 120)
    tp = table("customers", "incremental")
    assert tp.deletes == "hard"  # the default where the API reports deletions
    assert sync(stripe, warehouse, tp).rows == 120
    store.update("customers", made[3]["id"], name="Renamed")
    store.delete("customers", made[5]["id"])
    new = store.create("customers", email="new@example.com", name="New")
    second = sync(stripe, warehouse, tp)
    got = rows(warehouse, "customers")
    assert second.write == "merge" and len(got) == 120 and second.deleted == 1
    assert got[made[3]["id"]]["name"] == "Renamed" and got[new["id"]]["email"] == "new@example.com"
    assert made[5]["id"] not in got  # customer.deleted removed the row
    assert got[made[4]["id"]]["deleted"] is None and got[made[4]["id"]]["_ws_deleted_at"] is None
    before = rows(warehouse, "customers", synced_at=False)
    third = sync(stripe, warehouse, tp)  # re-reads the cursor second's events: nothing changes
    assert third.cursor == second.cursor and rows(warehouse, "customers", synced_at=False) == before


@pytest.mark.parametrize("deletes", ["hard", "soft"])
def test_an_object_deleted_then_recreated_is_removed_or_marked_then_live_again(
    stripe: Fake, warehouse: str, deletes: str
) -> None:
    api, store = stripe
    made = fill(store, "customers", 10)
    tp = table("customers", "incremental", **({"deletes": "soft"} if deletes == "soft" else {}))
    sync(stripe, warehouse, tp)
    gone, at = made[2]["id"], int(time.time())
    store.delete("customers", gone, at=at)
    second = sync(stripe, warehouse, tp)
    got = rows(warehouse, "customers")
    assert second.deleted == 1
    if deletes == "hard":
        assert gone not in got and len(got) == 9
    else:  # kept as last seen, marked with when Stripe deleted it
        assert len(got) == 10 and got[gone]["deleted"] is True
        assert got[gone]["_ws_deleted_at"] == datetime.fromtimestamp(at, UTC)
    store.create("customers", id=gone, email="back@example.com", name="Back")
    sync(stripe, warehouse, tp)
    back = rows(warehouse, "customers")[gone]
    assert (back["name"], back["deleted"], back["_ws_deleted_at"]) == ("Back", None, None)
    store.delete("customers", gone)  # deleted and recreated between two runs: the newest event wins
    store.create("customers", id=gone, email="again@example.com", name="Again")
    sync(stripe, warehouse, tp)
    got = rows(warehouse, "customers")
    assert len(got) == 10 and (got[gone]["name"], got[gone]["_ws_deleted_at"]) == ("Again", None)


def test_an_event_in_the_cursor_second_after_the_run_is_applied_by_the_next(stripe: Fake, warehouse: str) -> None:
    api, store = stripe
    made = fill(store, "customers", 10)
    tp = table("customers", "incremental")
    sync(stripe, warehouse, tp)
    now = int(time.time())
    store.update("customers", made[0]["id"], at=now, name="first")
    sync(stripe, warehouse, tp)
    store.update("customers", made[1]["id"], at=now, name="tie")  # same second as the stored cursor
    sync(stripe, warehouse, tp)
    got = rows(warehouse, "customers")
    assert (got[made[0]["id"]]["name"], got[made[1]["id"]]["name"]) == ("first", "tie")


def test_append_only_on_created_keeps_ties_at_the_cursor_second(stripe: Fake, warehouse: str) -> None:
    api, store = stripe
    made = fill(store, "refunds", 30, step=0, start=int(time.time()) - 100)  # all in one second
    tp = table("refunds", "append_only")
    assert sync(stripe, warehouse, tp).rows == 30
    store.create("refunds", made[0]["created"], amount=5, currency="usd", status="succeeded")  # a late tie
    assert sync(stripe, warehouse, tp).rows == 1
    assert sync(stripe, warehouse, tp).rows == 0
    assert len(rows(warehouse, "refunds")) == 31


def test_subscriptions_are_listed_with_status_all(stripe: Fake, warehouse: str) -> None:
    made = fill(stripe[1], "subscriptions", 40)
    sync(stripe, warehouse, table("subscriptions", "full_table"))
    canceled = {s["id"] for s in made if s["status"] == "canceled"}
    assert canceled and canceled <= set(rows(warehouse, "subscriptions"))


def test_429_retry_after_and_a_500_mid_paging_are_retried(stripe: Fake, warehouse: str) -> None:
    api, store = stripe
    fill(store, "charges", 350)
    api.fail(429, after=1, headers={"Retry-After": "1"})
    api.fail(500, after=3)
    started = time.monotonic()
    result = sync(stripe, warehouse, table("charges", "full_table"))
    assert result.rows == 350 and len(rows(warehouse, "charges")) == 350
    assert time.monotonic() - started >= 1.0  # Retry-After was waited out


def test_a_server_failing_past_the_budget_commits_nothing(stripe: Fake, warehouse: str) -> None:
    api, store = stripe
    fill(store, "charges", 150)
    tp = table("charges", "full_table")
    sync(stripe, warehouse, tp)
    store.create("charges", amount=1, currency="usd")
    for n in range(1, 40):
        api.fail(503, after=n)
    with pytest.raises(SourceConnectionError, match="retry budget of 1 s is spent"):
        sync(stripe, warehouse, tp, budget=1)
    assert DeltaTable(f"{warehouse}/charges").version() == 0


@pytest.mark.parametrize("revoked", [False, True])
def test_a_wrong_or_revoked_key_fails_at_once_without_the_key(stripe: Fake, warehouse: str, revoked: bool) -> None:
    api, store = stripe
    fill(store, "charges", 5)
    key = "sk_test_WRONGKEY0123456789abcd"
    if revoked:
        store.key = key
        store.revoked.add(key)
    with pytest.raises(ApiRequestError) as caught:
        sync(stripe, warehouse, table("charges", "full_table"), key=key)
    text = str(caught.value)
    assert "HTTP 401" in text and "request id req_" in text and "API Key provided" in text
    assert key not in text and "WRONGKEY" not in text
    assert ("Expired" in text) == revoked
    assert len(api.requests) == 1  # no retry


def test_an_unknown_object_is_named_with_the_close_ones(stripe: Fake, warehouse: str) -> None:
    with pytest.raises(TableNotFoundError, match="did you mean 'charges'"):
        sync(stripe, warehouse, plan("chargs", "full_table", schema=""))  # past the config: the reader's check


def test_a_malformed_page_fails_the_table(stripe: Fake, warehouse: str) -> None:
    api, store = stripe
    fill(store, "charges", 150)
    api.fail(200, after=1, body={"object": "list", "data": [{"no": "id"}], "has_more": False})
    with pytest.raises(ApiDataError, match="not a list of objects with ids"):
        sync(stripe, warehouse, table("charges", "full_table"))
    assert not DeltaTable.is_deltatable(f"{warehouse}/charges")


def test_a_crash_before_commit_leaves_the_cursor_and_the_next_run_resumes(stripe: Fake, warehouse: str) -> None:
    api, store = stripe
    made = fill(store, "customers", 20)
    tp = table("customers", "incremental")
    sync(stripe, warehouse, tp)
    store.update("customers", made[2]["id"], name="changed")

    def crash() -> None:
        raise RuntimeError("killed before commit")

    with pytest.raises(RuntimeError):
        _crashing(stripe, warehouse, tp, crash)
    assert rows(warehouse, "customers")[made[2]["id"]]["name"] != "changed"
    sync(stripe, warehouse, tp)
    assert rows(warehouse, "customers")[made[2]["id"]]["name"] == "changed"


def _crashing(fake: Fake, warehouse: str, tp: TablePlan, crash: Any) -> None:
    api, store = fake
    with open_stripe(api.url, store.key, source="pay", budget=5) as reader:
        request = SyncRequest(table=tp, warehouse_uri=warehouse, run_id="test")
        sync_table(reader, request, LOG, SyncHooks(before_commit=crash))


def test_a_cursor_older_than_the_events_window_lists_everything_again(
    stripe: Fake, warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    api, store = stripe
    old = int(time.time()) - 40 * 86400
    made = fill(store, "customers", 5, start=old)
    tp = table("customers", "incremental")
    sync(stripe, warehouse, tp)  # cursor: 40 days ago (the newest object; no event kept that long)
    store.objects["customers"][made[1]["id"]]["name"] = "changed while no event was kept"
    with caplog.at_level(logging.WARNING):
        sync(stripe, warehouse, tp)
    assert "older than the Stripe change log keeps" in caplog.text
    assert rows(warehouse, "customers")[made[1]["id"]]["name"] == "changed while no event was kept"


def test_the_catalog_lists_the_objects_and_the_connection_test_uses_the_key(stripe: Fake) -> None:
    from warehouse_sources.sources.stripe.tables import count_tables, list_tables

    api, store = stripe
    with open_stripe(api.url, store.key) as reader:
        assert count_tables(reader) == 10
        listing = list_tables(reader)
    charges = next(t for t in listing.tables if t.name == "charges")
    assert charges.primary_key == ("id",)
    assert {c.name for c in charges.columns if c.replication_key} >= {"created", "changed_at"}
    with pytest.raises(ApiRequestError, match="Invalid API Key"), open_stripe(api.url, "sk_test_nope1234") as reader:
        count_tables(reader)
