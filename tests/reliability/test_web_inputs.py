"""The plugin's REST routes under bad inputs and hostile requests, for RELIABILITY.md.

Each case is a real request through Airflow's own API app (the plugin mounted as the API
server mounts it), with the demo sources; its answer is asserted, then recorded: bad inputs in
the "Bad inputs" table, cross-site, team and visibility cases in "Web security".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.web import conftest as web_fixtures
from tests.integration.web import test_teams

# The web tests' fixtures (Airflow's API app over the demo sources) and their two teams.
web_env, client, admin = web_fixtures.web_env, web_fixtures.client, web_fixtures.admin
airflow_state_restored = web_fixtures.airflow_state_restored
multi_team, teams, _headers = test_teams.multi_team, test_teams.teams, test_teams._headers

pytestmark = pytest.mark.usefixtures("airflow_state_restored")
P = "/warehouse-sources/api"
ORIGIN = "http://testserver"


def _record(reliability: Any, case: str, request: str, answer: Any) -> None:
    detail = answer.json().get("detail", "") if answer.headers.get("content-type") == "application/json" else ""
    reliability.add("Web security", case=case, request=request, answer=answer.status_code, detail=str(detail)[:100])


def _cookie(headers: dict[str, str]) -> dict[str, str]:
    return {"Cookie": f"_token={headers['Authorization'].removeprefix('Bearer ')}"}


CROSS_SITE = [
    ("auto-submitted form from another site", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=1", 403),
    ("empty POST, same Origin (no JSON)", {"Origin": ORIGIN}, b"", 403),
    ("JSON from a foreign Origin", {"Origin": "http://evil.example", "Content-Type": "application/json"}, b"{}", 403),
    (
        "JSON from another port of the host",
        {"Origin": ORIGIN + ":8081", "Content-Type": "application/json"},
        b"{}",
        403,
    ),
    (
        "JSON, Sec-Fetch-Site: same-site",
        {"Origin": ORIGIN, "Sec-Fetch-Site": "same-site", "Content-Type": "application/json"},
        b"{}",
        403,
    ),  # fmt: skip
    (
        "the page's own request (same-origin JSON {})",
        {"Origin": ORIGIN, "Content-Type": "application/json"},
        b"{}",
        200,
    ),
]


@pytest.mark.parametrize(("case", "headers", "body", "status"), CROSS_SITE, ids=[c[0] for c in CROSS_SITE])
def test_cookie_requests_that_change_state(
    client: Any, admin: dict[str, str], reliability: Any, case: str, headers: dict[str, str], body: bytes, status: int
) -> None:
    answer = client.post(f"{P}/sources/crm/pause", content=body, headers={**_cookie(admin), **headers})
    assert answer.status_code == status, answer.text
    _record(reliability, f"UI cookie: {case}", "POST sources/crm/pause", answer)


def test_bearer_requests_are_not_cross_site(client: Any, admin: dict[str, str], reliability: Any) -> None:
    answer = client.post(f"{P}/sources/crm/unpause", headers={**admin, "Origin": "http://evil.example"})
    assert answer.status_code == 200, answer.text
    _record(reliability, "bearer token, foreign Origin, no body (a script)", "POST sources/crm/unpause", answer)


TEAM_ROUTES = [
    ("GET", "sources/billing", None),
    ("POST", "sources/billing/sync", {}),
    ("POST", "sources/billing/pause", {}),
    ("PATCH", "sources/billing/tables/billing_plans", {"enabled": False}),
    ("DELETE", "sources/billing", None),
]


@pytest.mark.parametrize(("method", "route", "body"), TEAM_ROUTES)
def test_a_user_of_another_team(client: Any, teams: None, reliability: Any, method: str, route: str, body: Any) -> None:
    answer = client.request(method, f"{P}/{route}", json=body, headers=_headers("rosa", "red"))
    assert answer.status_code == 403, answer.text
    _record(reliability, "multi-team: team red's user on team blue's source", f"{method} {route}", answer)


def test_what_lists_show(client: Any, teams: None, web_env: dict[str, Path], reliability: Any) -> None:
    red = _headers("rosa", "red")
    listed = client.get(f"{P}/sources", headers=red).json()
    assert [s["name"] for s in listed["sources"]] == ["crm"] and listed["warnings"] == []
    reliability.add("Web security", case="multi-team: team red lists sources (a broken file of team blue's source "
                    "and one naming no source exist)", request="GET sources", answer=200,
                    detail="sources: crm; warnings: none")  # fmt: skip
    tables = [t["name"] for t in client.get(f"{P}/tables", headers=red).json()["tables"]]
    assert tables == ["crm_deals"]
    reliability.add("Web security", case="a table no valid source owns (events), asked by a non-admin",
                    request="GET tables", answer=200, detail=f"tables: {', '.join(tables)}")  # fmt: skip
    warnings = client.get(f"{P}/sources", headers=_headers("ada", "red", role="admin")).json()["warnings"]
    assert warnings and not any(str(web_env["sources"]) in w for w in warnings)
    reliability.add("Web security", case="broken source files' problems, asked by an admin", request="GET sources",
                    answer=200, detail=f"{len(warnings)} problems, no server path: {warnings[-1]}"[:100])  # fmt: skip


@pytest.fixture
def symlinked_table(web_env: dict[str, Path], tmp_path: Path) -> Iterator[Path]:
    link = web_env["warehouse"] / "billing_refunds"
    (tmp_path / "elsewhere").mkdir()
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    yield link
    link.unlink()


def _bad_input(reliability: Any, case: str, answer: Any) -> None:
    reliability.add("Bad inputs", kind="any", input=case, where="REST",
                    message=f"{answer.status_code}: {answer.json()['detail']}"[:100])  # fmt: skip


def test_bad_rest_inputs(client: Any, admin: dict[str, str], reliability: Any, symlinked_table: Path) -> None:
    json_headers = {**admin, "Content-Type": "application/json"}
    big = client.post(f"{P}/sources/billing/sync", content=b'{"tables": ["' + b"x" * 1_100_000 + b'"]}',
                      headers=json_headers)  # fmt: skip
    assert big.status_code == 413
    _bad_input(reliability, "sync body over 1 MB", big)
    many = client.post(f"{P}/sources/billing/sync", json={"tables": [f"t{i}" for i in range(1001)]}, headers=admin)
    assert many.status_code == 422
    reliability.add("Bad inputs", kind="any", input="sync body naming 1,001 tables", where="REST",
                    message=f"422: {many.json()['detail'][0]['msg']}")  # fmt: skip
    linked = client.delete(f"{P}/sources/billing", headers=admin)
    assert linked.status_code == 409 and "symbolic link" in linked.json()["detail"]
    _bad_input(reliability, "delete with a table folder that is a symbolic link", linked)


def test_a_malformed_switch_variable(
    client: Any, admin: dict[str, str], reliability: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from airflow.models.variable import Variable

    Variable.set("warehouse_sources.crm", "not json {")
    try:
        with caplog.at_level(logging.WARNING):
            answer = client.get(f"{P}/sources/crm", headers=admin)
    finally:
        Variable.delete("warehouse_sources.crm")
    assert answer.status_code == 200
    warning = next(r.getMessage() for r in caplog.records if "warehouse_sources.crm" in r.getMessage())
    reliability.add("Bad inputs", kind="any", input="Variable warehouse_sources.crm not JSON", where="Variable",
                    message=f"200, logged: {warning}"[:100])  # fmt: skip
