"""Cross-site requests and oversized bodies, through Airflow's own API app.

A request authenticated only by the UI's `_token` cookie that changes state must be same-origin
JSON: an auto-submitting form on another site (or another port of this host) cannot send that.
Bearer-token requests (scripts) are not browser requests and are left as they are.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("airflow_state_restored")
P = "/warehouse-sources/api"
SAME_ORIGIN = {"Origin": "http://testserver", "Content-Type": "application/json"}
STATE_CHANGES = [
    ("POST", f"{P}/sources/billing/sync"),
    ("POST", f"{P}/sources/billing/pause"),
    ("POST", f"{P}/sources/billing/unpause"),
    ("DELETE", f"{P}/sources/billing"),
    ("PATCH", f"{P}/sources/billing/tables/billing_plans"),
]
CROSS_SITE = {
    "form, no Origin": ({"Content-Type": "application/x-www-form-urlencoded"}, b"a=1"),
    "form, same Origin": ({"Origin": "http://testserver", "Content-Type": "application/x-www-form-urlencoded"}, b""),
    "text/plain, same Origin": ({"Origin": "http://testserver", "Content-Type": "text/plain"}, b"{}"),
    "empty, same Origin": ({"Origin": "http://testserver"}, b""),
    "JSON, foreign Origin": ({"Origin": "http://evil.example", "Content-Type": "application/json"}, b"{}"),
    "JSON, another port": ({"Origin": "http://testserver:8081", "Content-Type": "application/json"}, b"{}"),
    "JSON, no Origin": ({"Content-Type": "application/json"}, b"{}"),
    "JSON, Sec-Fetch-Site cross-site": (
        {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
        b"{}",
    ),
}


def _cookie(admin: dict[str, str]) -> dict[str, str]:
    return {"Cookie": f"_token={admin['Authorization'].removeprefix('Bearer ')}"}


@pytest.mark.parametrize(("method", "url"), STATE_CHANGES)
@pytest.mark.parametrize("case", sorted(CROSS_SITE))
def test_cookie_requests_that_change_state_must_be_same_origin_json(
    client: Any, admin: dict[str, str], method: str, url: str, case: str
) -> None:
    headers, content = CROSS_SITE[case]
    answer = client.request(method, url, content=content, headers={**_cookie(admin), **headers})
    assert answer.status_code == 403, (case, answer.text)
    assert "same-origin JSON" in answer.json()["detail"]


def test_the_pages_own_requests_work_with_the_cookie(client: Any, admin: dict[str, str]) -> None:
    headers = {**_cookie(admin), **SAME_ORIGIN}
    assert client.post(f"{P}/sources/crm/pause", content=b"{}", headers=headers).status_code == 200
    assert client.post(f"{P}/sources/crm/unpause", content=b"{}", headers=headers).status_code == 200
    fetch_meta = {**headers, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json; charset=utf-8"}
    answer = client.patch(f"{P}/sources/crm/tables/crm_contacts", content=b'{"enabled": true}', headers=fetch_meta)
    assert answer.status_code == 200, answer.text
    assert client.get(f"{P}/sources", headers=_cookie(admin)).status_code == 200, "reads need no Origin"


def test_bearer_token_requests_are_unaffected(client: Any, admin: dict[str, str]) -> None:
    assert client.post(f"{P}/sources/crm/pause", headers=admin).status_code == 200
    answer = client.post(f"{P}/sources/crm/unpause", headers={**admin, "Origin": "http://evil.example"})
    assert answer.status_code == 200


def test_a_body_over_1_mb_is_413_before_it_is_read(client: Any, admin: dict[str, str]) -> None:
    big = b'{"tables": ["' + b"x" * 1_100_000 + b'"]}'
    answer = client.post(
        f"{P}/sources/billing/sync", content=big, headers={**admin, "Content-Type": "application/json"}
    )
    assert answer.status_code == 413, answer.text
    assert "1 MB" in answer.json()["detail"]


def test_a_chunked_body_over_1_mb_is_413_too(client: Any, admin: dict[str, str]) -> None:
    def chunks() -> Any:
        yield b'{"tables": ["'
        for _ in range(300):
            yield b"x" * 4096
        yield b'"]}'

    answer = client.post(
        f"{P}/sources/billing/sync", content=chunks(), headers={**admin, "Content-Type": "application/json"}
    )
    assert answer.status_code == 413, answer.text


def test_an_unauthenticated_big_body_is_401_not_413(client: Any) -> None:
    answer = client.post(f"{P}/sources/billing/sync", content=b"x" * 2_000_000)
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "body",
    [{"tables": [f"t{i}" for i in range(1001)]}, {"tables": ["x" * 512]}],
    ids=["1001 tables", "a 512-character name"],
)
def test_table_lists_and_names_are_bounded(client: Any, admin: dict[str, str], body: Any) -> None:
    answer = client.post(f"{P}/sources/billing/sync", json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    assert "at most" in answer.text
