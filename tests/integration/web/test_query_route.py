"""`POST /api/query`: the engine's answers and errors as HTTP (DESIGN §4.6, §4.8).

Per-table permissions (403) are tested with two teams' users in test_teams.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

P = "/warehouse-sources/api"
QUERY = f"{P}/query"


@pytest.fixture(scope="module", autouse=True)
def plans(web_env: dict[str, Path]) -> Iterator[None]:
    """billing_plans with five rows; one query at a time, stopped after 3 s."""
    import pyarrow as pa
    from deltalake import write_deltalake

    data = pa.table({"id": pa.array([1, 2, 3, 4, 5], pa.int64()), "code": ["a", "b", "c", "d", "e"]})
    write_deltalake(str(web_env["warehouse"] / "billing_plans"), data, mode="overwrite")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW__WAREHOUSE_SOURCES__QUERY_MAX_CONCURRENT", "1")
        mp.setenv("AIRFLOW__WAREHOUSE_SOURCES__QUERY_TIMEOUT", "3")
        yield


def test_a_query_needs_a_token(client: Any) -> None:
    assert client.post(QUERY, json={"sql": "SELECT 1"}).status_code == 401


def test_a_query_answers_typed_columns_and_rows(client: Any, admin: dict[str, str]) -> None:
    answer = client.post(QUERY, json={"sql": "SELECT id, code FROM billing_plans ORDER BY id"}, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "columns": [{"name": "id", "type": "BIGINT"}, {"name": "code", "type": "VARCHAR"}],
        "rows": [[1, "a"], [2, "b"], [3, "c"], [4, "d"], [5, "e"]],
        "truncated": False,
    }


def test_the_limit_cuts_the_rows_and_says_so(client: Any, admin: dict[str, str]) -> None:
    body = {"sql": "SELECT id FROM billing_plans ORDER BY id", "limit": 3}
    answer = client.post(QUERY, json=body, headers=admin).json()
    assert answer["rows"] == [[1], [2], [3]] and answer["truncated"] is True
    body["limit"] = 5
    assert client.post(QUERY, json=body, headers=admin).json()["truncated"] is False
    assert client.post(QUERY, json={"sql": "SELECT 1", "limit": 0}, headers=admin).status_code == 422


@pytest.mark.parametrize(
    "sql",
    ["SELEC 1", "SELECT * FROM no_such_table", "CREATE TABLE x AS SELECT 1", "SELECT * FROM read_csv('/etc/passwd')"],
)
def test_bad_or_refused_sql_is_400_with_the_engines_message(
    client: Any, admin: dict[str, str], web_env: dict[str, Path], sql: str
) -> None:
    from warehouse_sources.query.engine import QueryEngine
    from warehouse_sources.query.errors import QueryError

    with pytest.raises(QueryError) as expected:
        QueryEngine(str(web_env["warehouse"]), views_dir=web_env["warehouse"] / "no-views").run(sql)
    answer = client.post(QUERY, json={"sql": sql}, headers=admin)
    assert answer.status_code == 400, answer.text
    assert answer.json()["detail"] == str(expected.value)


def test_beyond_the_queries_at_once_limit_is_429_and_the_next_query_runs(client: Any, admin: dict[str, str]) -> None:
    slow = {"sql": "SELECT count(*) FROM range(1000000000000) AS a"}
    answers: list[Any] = []
    refused = None
    for _ in range(3):  # a probe may take the one slot before the slow query does: start it again then
        answers.clear()
        worker = threading.Thread(target=lambda: answers.append(client.post(QUERY, json=slow, headers=admin)))
        worker.start()
        time.sleep(0.3)
        while refused is None and worker.is_alive():
            answer = client.post(QUERY, json={"sql": "SELECT 1"}, headers=admin)
            refused = answer if answer.status_code == 429 else None
        worker.join(timeout=30)
        if refused is not None:
            break
    assert refused is not None, "a second query while one runs (limit 1) must be 429"
    assert "too many queries" in refused.json()["detail"] and refused.headers["Retry-After"] == "1"
    assert answers[0].status_code == 400 and "time limit (3 s)" in answers[0].json()["detail"], answers[0].text
    started = time.monotonic()
    assert client.post(QUERY, json={"sql": "SELECT 1"}, headers=admin).json()["rows"] == [[1]]
    assert time.monotonic() - started < 2


def test_the_pages_cookie_request_passes_the_cross_site_guard(client: Any, admin: dict[str, str]) -> None:
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

    jwt = admin["Authorization"].removeprefix("Bearer ")
    client.cookies.set(COOKIE_NAME_JWT_TOKEN, jwt)
    try:
        page = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
        assert client.post(QUERY, json={"sql": "SELECT 1"}, headers=page).status_code == 200
        form = client.post(QUERY, data={"sql": "SELECT 1"}, headers={"Origin": "http://evil.example"})
        assert form.status_code == 403
    finally:
        client.cookies.clear()
