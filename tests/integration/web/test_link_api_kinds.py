"""The link-a-source routes for the API kinds (Stripe, HubSpot) against their local fakes over real HTTP.

A connection test opens the object the kind's registry entry names (`probe_table`) with the key
from the Airflow connection, and the catalog lists the kind's objects, so a wrong key is reported
with the API's own words and never echoed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.api_fakes.http_base import FakeApi
from tests.integration.api_fakes.hubspot_fake import start_hubspot
from tests.integration.api_fakes.stripe_fake import start_stripe
from tests.integration.web.link_support import add_connection, drop_connections

pytestmark = pytest.mark.usefixtures("api_server_context", "airflow_state_restored")
P = "/warehouse-sources/api"
FAKES: dict[str, Callable[[], tuple[FakeApi, Any]]] = {"stripe": start_stripe, "hubspot": start_hubspot}
OBJECTS = {"stripe": {"charges", "customers", "events"}, "hubspot": {"contacts", "companies", "owners"}}


@pytest.fixture(params=sorted(FAKES))
def api(request: pytest.FixtureRequest, client: Any) -> Iterator[dict[str, str]]:
    """The kind's local API and two http connections to it: its key, and a wrong one."""
    kind = request.param
    fake, store = FAKES[kind]()
    secret = store.key if kind == "stripe" else store.token
    conn = f"alink_{uuid.uuid4().hex[:6]}"
    add_connection(f"{conn}_ok", conn_type="http", host=fake.url, password=secret)
    add_connection(f"{conn}_wrong", conn_type="http", host=fake.url, password="wrong-key-0000")
    yield {"kind": kind, "ok": f"{conn}_ok", "wrong": f"{conn}_wrong", "key": secret}
    drop_connections(conn)
    fake.stop()


def test_an_api_connection_tests_ok_with_its_key_and_names_a_wrong_one(
    client: Any, admin: dict[str, str], api: dict[str, str]
) -> None:
    body = {"kind": api["kind"]}
    good = client.post(f"{P}/connections/{api['ok']}/test", json=body, headers=admin)
    assert good.status_code == 200 and good.json()["ok"] is True, good.text
    wrong = client.post(f"{P}/connections/{api['wrong']}/test", json=body, headers=admin)
    assert wrong.status_code == 200 and wrong.json()["ok"] is False, wrong.text
    assert wrong.json()["error"] and "wrong-key-0000" not in wrong.text and api["key"] not in wrong.text


def test_an_api_catalog_lists_the_kinds_objects(client: Any, admin: dict[str, str], api: dict[str, str]) -> None:
    answer = client.get(f"{P}/connections/{api['ok']}/tables", params={"kind": api["kind"]}, headers=admin)
    assert answer.status_code == 200, answer.text
    tables = {t["name"]: t for t in answer.json()["tables"]}
    assert OBJECTS[api["kind"]] <= set(tables)
    some = next(iter(OBJECTS[api["kind"]] - {"events", "owners"}))
    assert tables[some]["primary_key"] == ["id"]
    assert any(c["replication_key"] for c in tables[some]["columns"])
