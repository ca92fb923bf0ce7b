"""Bad inputs of the API kinds (stripe, hubspot): source files, keys, hosts and pages.

Each yields one clear message naming the source, object or connection and what to do; none
carries the key or token; a failed run leaves the warehouse as it was.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.api_fakes.http_base import FakeApi
from tests.integration.api_fakes.hubspot_fake import start_hubspot
from tests.integration.api_fakes.stripe_data import fill
from tests.integration.api_fakes.stripe_fake import start_stripe
from tests.integration.helpers import plan
from tests.reliability.test_bad_inputs import snapshot
from warehouse_sources.config.kinds import parse_source
from warehouse_sources.engine.sync import SyncRequest, sync_table
from warehouse_sources.sources.hubspot import open_hubspot
from warehouse_sources.sources.stripe import open_stripe

pytestmark = pytest.mark.integration
LOG = logging.getLogger("warehouse_sources.tests.bad_api")
KEY = "sk_test_51BadInputsKey0123456789"
TOKEN = "pat-na1-bad00000-1111-2222-3333-444444444444"


@dataclass(frozen=True)
class YamlCase:
    id: str
    kind: str
    table: dict[str, Any]
    where: str
    message: str


YAML_CASES = [
    YamlCase("stripe-unknown-object", "stripe", {"name": "chargez"}, "tables.0.name",
             r"'chargez' is not a Stripe object this kind reads; write one of: charges, customers"),
    YamlCase("stripe-method-not-offered", "stripe", {"name": "balance_transactions", "sync": "incremental"},
             "tables.0", r"sync incremental is not offered for this object; use full_table or append_only"),
    YamlCase("stripe-other-key", "stripe", {"name": "charges", "sync": "append_only", "replication_key": "amount"},
             "tables.0", r"replication_key is 'created' for sync append_only; remove it"),
    YamlCase("stripe-primary-key", "stripe", {"name": "customers", "primary_key": ["email"]},
             "tables.0.primary_key", r"Stripe objects merge on their id; remove primary_key"),
    YamlCase("hubspot-unknown-object", "hubspot", {"name": "leads"}, "tables.0.name",
             r"'leads' is not a HubSpot object this kind reads; write one of: contacts, companies, deals"),
    YamlCase("hubspot-owners-incremental", "hubspot", {"name": "owners", "sync": "incremental"}, "tables.0",
             r"sync incremental is not offered for this object; use full_table"),
]  # fmt: skip


@pytest.mark.parametrize("case", YAML_CASES, ids=[c.id for c in YAML_CASES])
def test_bad_api_source_file(case: YamlCase, reliability: Any) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        parse_source({"name": "bad", "kind": case.kind, "conn_id": "api", "tables": [case.table]})
    errors = {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}
    assert case.where in errors, errors
    message = errors[case.where]
    import re

    assert re.search(case.message, message), message
    reliability.add("Bad inputs", kind=case.kind, input=case.id, where=case.where, message=message[:100])


@pytest.fixture
def stripe_api() -> Iterator[tuple[FakeApi, Any]]:
    api, store = start_stripe()
    fill(store, "charges", 120)
    yield api, store
    api.stop()


@pytest.fixture
def hubspot_api() -> Iterator[tuple[FakeApi, Any]]:
    api, store = start_hubspot()
    yield api, store
    api.stop()


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


Setup = Callable[[tuple[FakeApi, Any]], tuple[str, str]]  # -> (base url, key)


def _wrong_key(fake: tuple[FakeApi, Any]) -> tuple[str, str]:
    return fake[0].url, KEY


def _revoked_key(fake: tuple[FakeApi, Any]) -> tuple[str, str]:
    fake[1].key = KEY
    fake[1].revoked.add(KEY)
    return fake[0].url, KEY


def _unreachable(fake: tuple[FakeApi, Any]) -> tuple[str, str]:
    fake[1].key = KEY
    return _closed_port(), KEY


def _not_json(fake: tuple[FakeApi, Any]) -> tuple[str, str]:
    fake[1].key = KEY
    fake[0].fail(200, after=1, body="<html>proxy login</html>")
    return fake[0].url, KEY


def _malformed_page(fake: tuple[FakeApi, Any]) -> tuple[str, str]:
    fake[1].key = KEY
    fake[0].fail(200, after=1, body={"object": "list", "data": [{"amount": 1}], "has_more": True})
    return fake[0].url, KEY


def _bad_request(fake: tuple[FakeApi, Any]) -> tuple[str, str]:
    fake[1].key = KEY
    fake[0].fail(400, after=1, body={"error": {"type": "invalid_request_error", "message": "Invalid limit"}})
    return fake[0].url, KEY


RUN_CASES: list[tuple[str, Setup, str, str]] = [
    ("stripe-wrong-key", _wrong_key, "ApiRequestError", r"HTTP 401: Invalid API Key provided: .* \(request id req_"),
    ("stripe-revoked-key", _revoked_key, "ApiRequestError", r"HTTP 401: Expired API Key provided"),
    ("stripe-unreachable-host", _unreachable, "ApiUnavailableError", r"cannot reach http://127\.0\.0\.1:\d+ after 3 "
     r"attempts .*check the connection's host"),
    ("stripe-not-json", _not_json, "ApiDataError", r"the answer is not a JSON object .*check the connection's host"),
    ("stripe-malformed-page", _malformed_page, "ApiDataError", r"the page is not a list of objects with ids"),
    ("stripe-refused-request", _bad_request, "ApiRequestError", r"HTTP 400: Invalid limit \[invalid_request_error\]"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "setup", "error", "message"), RUN_CASES, ids=[c[0] for c in RUN_CASES])
def test_bad_stripe_input_fails_the_run_clearly(
    case: str, setup: Setup, error: str, message: str, stripe_api: Any, tmp_path: Path, reliability: Any
) -> None:
    url, key = setup(stripe_api)
    opened = open_stripe(url, key, source="pay", budget=2)
    fails_clearly(opened, "charges", key, (case, error, message), tmp_path / "warehouse", reliability)


def fails_clearly(
    opened: Any, table: str, secret: str, expected: tuple[str, str, str], warehouse: Path, reliability: Any
) -> None:
    """A sync of `table` through the opened reader fails with the expected error and message, names no
    part of the secret and writes nothing; the case goes into RELIABILITY.md."""
    import re

    case, error, message = expected
    before = snapshot(warehouse)
    with pytest.raises(Exception) as caught, opened as reader:
        sync_table(reader, SyncRequest(table=plan(table, schema=""), warehouse_uri=str(warehouse)), LOG)
    text = str(caught.value)
    assert type(caught.value).__name__ == error and re.search(message, text), text
    assert secret not in text and secret[8:] not in text
    assert snapshot(warehouse) == before
    reliability.add("Bad inputs", kind=case.split("-")[0], input=case, where="connection / API", message=text[:100])


def _hubspot_error(status: int, message: str, category: str) -> dict[str, str]:
    """HubSpot's documented error body (status, message, correlationId, category)."""
    return {"status": "error", "message": message, "correlationId": "0b9c3e52-bad1-4c1e", "category": category}


def _hubspot_wrong_token(fake: tuple[FakeApi, Any]) -> tuple[str, str]:
    return fake[0].url, TOKEN  # the fake's own token is another one


def _hubspot_expired_token(fake: tuple[FakeApi, Any]) -> tuple[str, str]:
    fake[1].token = TOKEN
    body = _hubspot_error(401, "The OAuth token used to make this call expired 1 day(s) ago.", "EXPIRED_AUTHENTICATION")
    fake[0].fail(401, body=body)
    return fake[0].url, TOKEN


def _hubspot_unreachable(fake: tuple[FakeApi, Any]) -> tuple[str, str]:
    fake[1].token = TOKEN
    return _closed_port(), TOKEN


def _hubspot_not_json(fake: tuple[FakeApi, Any]) -> tuple[str, str]:
    fake[1].token = TOKEN
    fake[0].fail(200, after=1, body="<html>proxy login</html>")  # the properties answer first, then the page
    return fake[0].url, TOKEN


def _hubspot_malformed_page(fake: tuple[FakeApi, Any]) -> tuple[str, str]:
    fake[1].token = TOKEN
    fake[0].fail(200, after=1, body={"results": [{"properties": {"email": "a@example.com"}}]})
    return fake[0].url, TOKEN


def _hubspot_refused_request(fake: tuple[FakeApi, Any]) -> tuple[str, str]:
    fake[1].token = TOKEN
    fake[0].fail(400, after=1, body=_hubspot_error(400, "Invalid input JSON", "VALIDATION_ERROR"))
    return fake[0].url, TOKEN


HUBSPOT_RUN_CASES: list[tuple[str, Setup, str, str]] = [
    ("hubspot-wrong-token", _hubspot_wrong_token, "ApiRequestError", r"HTTP 401: Authentication credentials not "
     r"found.*INVALID_AUTHENTICATION.*put a valid one in the connection's password"),
    ("hubspot-expired-token", _hubspot_expired_token, "ApiRequestError", r"HTTP 401: The OAuth token used to make "
     r"this call expired .*EXPIRED_AUTHENTICATION, correlationId 0b9c3e52-bad1-4c1e"),
    ("hubspot-unreachable-host", _hubspot_unreachable, "ApiUnavailableError", r"cannot reach http://127\.0\.0\.1:\d+ "
     r"after 3 attempts .*check the connection's host"),
    ("hubspot-not-json", _hubspot_not_json, "ApiDataError", r"the answer is not a JSON object .*check the "
     r"connection's host"),
    ("hubspot-malformed-page", _hubspot_malformed_page, "ApiDataError", r"a record without a string id .*check the "
     r"connection's host"),
    ("hubspot-refused-request", _hubspot_refused_request, "ApiRequestError", r"HTTP 400: Invalid input JSON "
     r"\[category VALIDATION_ERROR, correlationId 0b9c3e52-bad1-4c1e\]"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "setup", "error", "message"), HUBSPOT_RUN_CASES, ids=[c[0] for c in HUBSPOT_RUN_CASES]
)
def test_bad_hubspot_input_fails_the_run_clearly(
    case: str, setup: Setup, error: str, message: str, hubspot_api: Any, tmp_path: Path, reliability: Any
) -> None:
    hubspot_api[1].create("contacts", datetime(2026, 1, 1, tzinfo=UTC), email="a@example.com")
    url, token = setup(hubspot_api)
    opened = open_hubspot(url, token, source="crm", budget=2)
    fails_clearly(opened, "contacts", token, (case, error, message), tmp_path / "warehouse", reliability)
