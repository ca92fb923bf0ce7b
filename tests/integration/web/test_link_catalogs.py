"""The link-a-source flow against MariaDB and a bucket on moto's S3 server, and a sweep for its secrets.

A MariaDB user with a password refuses a wrong one (the test PostgreSQL trusts every login), so
the wrong-password test and the secret sweep run here: every response body and log line of the
flow (test wrong, test right, catalog, save, read back) is searched for the password in every form.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.integration.web.link_support import add_connection, drop_connections

pytestmark = pytest.mark.usefixtures("api_server_context", "airflow_state_restored")
P = "/warehouse-sources/api"
PASSWORD = "Link pw:w/x@y%z-42"  # every character a URI must quote
S3_SECRET_FORMS = ("secret_access_key",)


@pytest.fixture(scope="module")
def maria(client: Any) -> Iterator[dict[str, str]]:
    """A MariaDB database (mixed-case names, a composite key, a view, text and JSON columns) and a user with a
    password; Airflow connections with the right and a wrong password."""
    from tests.conftest import fresh_mysql_database
    from warehouse_sources.sources.mysql import MySQLReader

    user = f"wslink{uuid.uuid4().hex[:6]}"
    prefix = f"mlink_{uuid.uuid4().hex[:6]}"
    with fresh_mysql_database() as uri, MySQLReader(uri) as admin:
        db = uri.rsplit("/", 1)[1]
        for statement in (
            f"CREATE TABLE `{db}`.`Orders` (`Id` bigint PRIMARY KEY, `Ref` varchar(36), `updatedAt` datetime(6), "
            "doc json)",
            f"CREATE TABLE `{db}`.lines (order_id int, line smallint, qty decimal(10,2), PRIMARY KEY (order_id, line))",
            f"CREATE VIEW `{db}`.recent AS SELECT `Id`, `updatedAt` FROM `{db}`.`Orders`",
            f"CREATE USER '{user}'@'%' IDENTIFIED BY '{PASSWORD}'",
            f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{PASSWORD}'",
            f"GRANT SELECT, SHOW VIEW ON `{db}`.* TO '{user}'@'%'",
            f"GRANT SELECT, SHOW VIEW ON `{db}`.* TO '{user}'@'localhost'",
        ):
            admin.execute(statement)
        base = {"conn_type": "mysql", "host": "127.0.0.1", "port": 3306, "login": user, "schema": db}
        add_connection(f"{prefix}_ok", **base, password=PASSWORD)
        add_connection(f"{prefix}_wrongpw", **base, password=PASSWORD + "x")
        try:
            yield {"ok": f"{prefix}_ok", "wrongpw": f"{prefix}_wrongpw", "db": db}
        finally:
            drop_connections(prefix)
            for host in ("%", "localhost"):
                admin.execute(f"DROP USER IF EXISTS '{user}'@'{host}'")


def test_a_wrong_mariadb_password_is_ok_false_with_the_servers_words(
    client: Any, admin: dict[str, str], maria: dict[str, str]
) -> None:
    answer = client.post(f"{P}/connections/{maria['wrongpw']}/test", json={"kind": "mysql"}, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["ok"] is False and "Access denied" in answer.json()["error"], answer.json()
    right = client.post(f"{P}/connections/{maria['ok']}/test", json={"kind": "mysql"}, headers=admin)
    assert right.json() == {"ok": True, "error": None, "tables": 3}


def test_the_mariadb_catalog(client: Any, admin: dict[str, str], maria: dict[str, str]) -> None:
    answer = client.get(f"{P}/connections/{maria['ok']}/tables", params={"kind": "mysql"}, headers=admin)
    assert answer.status_code == 200, answer.text
    db = maria["db"]
    tables = {t["name"]: t for t in answer.json()["tables"]}
    assert set(tables) == {f"{db}.Orders", f"{db}.lines", f"{db}.recent"}
    orders = {c["name"]: c for c in tables[f"{db}.Orders"]["columns"]}
    assert tables[f"{db}.Orders"]["primary_key"] == ["Id"] and tables[f"{db}.Orders"]["type"] == "table"
    assert orders["updatedAt"]["replication_key"] is True and orders["Id"]["replication_key"] is True
    assert orders["Ref"]["replication_key"] is False and "'varchar(36)'" in orders["Ref"]["reason"]
    assert orders["doc"]["replication_key"] is False
    assert tables[f"{db}.lines"]["primary_key"] == ["order_id", "line"]
    assert tables[f"{db}.recent"]["type"] == "view" and tables[f"{db}.recent"]["rows_estimate"] is None


def _sweep(texts: list[str]) -> list[str]:
    forms = {PASSWORD, quote(PASSWORD, safe=""), quote(PASSWORD), PASSWORD + "x", quote(PASSWORD + "x", safe="")}
    return [f"{form!r} in {text[:200]!r}" for text in texts for form in forms if form in text]


def test_no_response_or_log_line_of_the_flow_carries_the_password(
    client: Any, admin: dict[str, str], maria: dict[str, str], web_env: dict[str, Path]
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    db = maria["db"]
    source = {"name": "maria_flow", "kind": "mysql", "conn_id": maria["ok"], "schedule": "1h",
              "table_prefix": "maria_flow_",
              "tables": [{"name": f"{db}.Orders", "sync": "incremental", "replication_key": "updatedAt"},
                         {"name": f"{db}.lines", "sync": "append_only", "replication_key": "qty"}]}  # fmt: skip
    try:
        answers = [
            client.post(f"{P}/connections/{maria['wrongpw']}/test", json={"kind": "mysql"}, headers=admin),
            client.post(f"{P}/connections/{maria['ok']}/test", json={"kind": "mysql"}, headers=admin),
            client.get(f"{P}/connections/{maria['ok']}/tables", params={"kind": "mysql"}, headers=admin),
            client.get(f"{P}/connections/{maria['wrongpw']}/tables", params={"kind": "mysql"}, headers=admin),
            client.post(f"{P}/sources", json=source, headers=admin),  # qty is decimal: 422
        ]
        source["tables"][1] = {"name": f"{db}.lines", "sync": "full_table"}
        answers.append(client.post(f"{P}/sources", json=source, headers=admin))
        answers.append(client.get(f"{P}/sources/maria_flow/config", headers=admin))
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        (web_env["sources"] / "maria_flow.yaml").unlink(missing_ok=True)
    assert [a.status_code for a in answers] == [200, 200, 200, 502, 422, 201, 200], [a.text for a in answers]
    assert "'qty'" in answers[4].text and "decimal(10,2)" in answers[4].text
    assert "Access denied" in answers[3].json()["detail"]
    logs = stream.getvalue().splitlines()
    assert logs, "the flow logged nothing at all: the sweep would prove nothing"
    assert not _sweep([a.text for a in answers] + logs)


@pytest.fixture(scope="module")
def bucket(client: Any, s3_server: Any) -> Iterator[dict[str, str]]:
    """Two Parquet files and a CSV under a fresh prefix of the moto bucket; aws connections (right and wrong secret)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.integration.s3_support import BUCKET, REGION

    prefix = f"link-{uuid.uuid4().hex[:8]}"
    s3 = s3_server.client()
    for index in (1, 2):
        out = io.BytesIO()
        pq.write_table(pa.table({"id": pa.array([index], pa.int64()), "label": ["x"]}), out)
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/orders/part-{index}.parquet", Body=out.getvalue())
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/notes.csv", Body=b"a,b\n1,2\n")
    conn = f"blink_{uuid.uuid4().hex[:6]}"
    extra = f'{{"endpoint_url": "{s3_server.endpoint}", "region_name": "{REGION}"}}'
    add_connection(f"{conn}_ok", conn_type="aws", login=s3_server.access_key_id,
                password=s3_server.secret_access_key, extra=extra)  # fmt: skip
    add_connection(f"{conn}_wrong", conn_type="aws", login=s3_server.access_key_id,
                password="wrong-" + s3_server.secret_access_key, extra=extra)  # fmt: skip
    yield {"ok": f"{conn}_ok", "wrong": f"{conn}_wrong", "url": f"s3://{BUCKET}/{prefix}/",
           "secret": s3_server.secret_access_key}  # fmt: skip
    drop_connections(conn)


def test_a_bucket_connection_is_tested_on_its_url(client: Any, admin: dict[str, str], bucket: dict[str, str]) -> None:
    body = {"kind": "s3", "url": bucket["url"]}
    good = client.post(f"{P}/connections/{bucket['ok']}/test", json=body, headers=admin)
    assert good.json() == {"ok": True, "error": None, "tables": 2}, good.text  # orders/ and notes.csv
    wrong = client.post(f"{P}/connections/{bucket['wrong']}/test", json=body, headers=admin)
    assert wrong.status_code == 200 and wrong.json()["ok"] is False, wrong.text
    assert bucket["secret"] not in wrong.text
    no_url = client.post(f"{P}/connections/{bucket['ok']}/test", json={"kind": "s3"}, headers=admin)
    assert no_url.json()["ok"] is False and "url" in no_url.json()["error"]


def test_a_bucket_pattern_lists_its_files_and_columns(
    client: Any, admin: dict[str, str], bucket: dict[str, str]
) -> None:
    params = {"kind": "s3", "url": bucket["url"], "pattern": "orders/*.parquet", "format": "parquet"}
    answer = client.get(f"{P}/connections/{bucket['ok']}/tables", params=params, headers=admin)
    assert answer.status_code == 200, answer.text
    (table,) = answer.json()["tables"]
    assert table["files"] == ["orders/part-1.parquet", "orders/part-2.parquet"]
    columns = {c["name"]: c for c in table["columns"]}
    assert columns["id"]["replication_key"] is True and columns["label"]["replication_key"] is False
    assert columns["label"]["reason"]


def test_a_bucket_source_is_saved_and_reads_back(
    client: Any, admin: dict[str, str], bucket: dict[str, str], web_env: dict[str, Path]
) -> None:
    body = {"name": "bucket_link", "kind": "s3", "conn_id": bucket["ok"], "url": bucket["url"], "schedule": "1h",
            "tables": [{"name": "orders", "pattern": "orders/*.parquet", "format": "parquet",
                        "sync": "incremental", "replication_key": "id", "primary_key": ["id"]}]}  # fmt: skip
    try:
        answer = client.post(f"{P}/sources", json=body, headers=admin)
        assert answer.status_code == 201, answer.text
        assert client.get(f"{P}/sources/bucket_link/config", headers=admin).json()["source"] == body
    finally:
        (web_env["sources"] / "bucket_link.yaml").unlink(missing_ok=True)


def test_a_broken_file_keeps_its_name(client: Any, admin: dict[str, str], web_env: dict[str, Path]) -> None:
    broken = web_env["sources"] / "half_done.yml"
    broken.write_text("name: half_done\nkind: postgres\n")  # no conn_id, no tables
    body = {"name": "half_done", "kind": "postgres", "conn_id": "x", "tables": [{"name": "t", "sync": "full_table"}]}
    try:
        answer = client.post(f"{P}/sources", json=body, headers=admin)
    finally:
        broken.unlink()
    assert answer.status_code == 409, answer.text
    assert not (web_env["sources"] / "half_done.yaml").exists()
