"""The link-a-source routes (DESIGN §4.9) through Airflow's own API app, against a real PostgreSQL database.

401 before anything, 403 for a viewer, 404, 409 on clashes and on a read-only sources_dir, 422 with
field locations (a refused replication key type named), the catalog, and a saved source that reads
back as posted and passes `validate`.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import sql
from tests.integration.web.link_support import add_connection, drop_connections

pytestmark = pytest.mark.usefixtures("api_server_context", "airflow_state_restored")
P = "/warehouse-sources/api"
PASSWORD = "s3cret-Link-pw"
ROLE = f"ws_link_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def shop(pg_server: str, client: Any) -> Iterator[dict[str, str]]:
    """A database with mixed-case names, a composite key, a view and a uuid column; a role with a password;
    Airflow connections to it (right, unknown host, no such database: the test server trusts any password,
    so the wrong password is tested on MariaDB, test_link_catalogs.py)."""
    import psycopg

    name = f"ws_link_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f"CREATE ROLE \"{ROLE}\" LOGIN PASSWORD '{PASSWORD}'")
    uri = pg_server.rsplit("/", 1)[0] + f"/{name}"
    sql(
        uri,
        'CREATE TABLE public."Orders" ("Id" bigint PRIMARY KEY, ref uuid, "updatedAt" timestamptz, note text)',
        "CREATE TABLE public.lines (order_id bigint, line int, qty numeric(10,2), PRIMARY KEY (order_id, line))",
        'CREATE VIEW public.recent AS SELECT "Id", "updatedAt" FROM public."Orders"',
        "INSERT INTO public.lines SELECT i, 1, 2.5 FROM generate_series(1, 1000) i",
        "ANALYZE public.lines",
        f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{ROLE}"',
    )
    host, port = "127.0.0.1", 5432
    prefix = f"link_{uuid.uuid4().hex[:6]}"
    base = {"conn_type": "postgres", "host": host, "port": port, "login": ROLE, "schema": name}
    add_connection(f"{prefix}_ok", **base, password=PASSWORD)
    add_connection(f"{prefix}_nohost", **{**base, "host": "no-such-host.invalid"}, password=PASSWORD)
    add_connection(f"{prefix}_nodb", **{**base, "schema": name + "_missing"}, password=PASSWORD)
    add_connection(f"{prefix}_tls", **base, password=PASSWORD, extra='{"sslmode": "require"}')  # the server has no TLS
    yield {"ok": f"{prefix}_ok", "nohost": f"{prefix}_nohost", "nodb": f"{prefix}_nodb", "tls": f"{prefix}_tls",
           "db": name, "uri": uri}  # fmt: skip
    drop_connections(prefix)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{ROLE}"')


def _source(conn_id: str, name: str = "shop", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "postgres",
        "conn_id": conn_id,
        "schedule": "1h",
        "table_prefix": f"{name}_",
        "tables": [
            {"name": "public.Orders", "sync": "incremental", "replication_key": "updatedAt"},
            {"name": "public.lines", "sync": "full_table"},
        ],
        **extra,
    }


ROUTES = [
    ("get", f"{P}/kinds", None),
    ("post", f"{P}/connections/x/test", {"kind": "postgres"}),
    ("get", f"{P}/connections/x/tables?kind=postgres", None),
    ("post", f"{P}/sources", _source("x")),
    ("put", f"{P}/sources/billing", _source("x", name="billing")),
    ("get", f"{P}/sources/billing/config", None),
]


def call(client: Any, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    return client.request(method.upper(), url, headers=headers, **({"json": body} if body is not None else {}))


@pytest.mark.parametrize(("method", "url", "body"), ROUTES)
def test_every_link_route_answers_401_without_a_valid_token(client: Any, method: str, url: str, body: Any) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
        answer = call(client, method, url, body, headers)
        assert answer.status_code == 401, (url, answer.text)


@pytest.mark.parametrize(("method", "url", "body"), ROUTES[:5])
def test_a_viewer_gets_403(client: Any, viewer: dict[str, str], method: str, url: str, body: Any) -> None:
    answer = call(client, method, url, body, viewer)
    assert answer.status_code == 403, answer.text
    assert "viewer" in answer.json()["detail"]


def test_a_viewer_may_read_a_source_file(client: Any, viewer: dict[str, str]) -> None:
    answer = client.get(f"{P}/sources/billing/config", headers=viewer)
    assert answer.status_code == 200, answer.text
    assert answer.json()["source"]["conn_id"] == "demo_billing"
    assert "# Demo source" in answer.json()["yaml"]  # the file as written, comments included


def test_kinds_carry_their_forms(client: Any, admin: dict[str, str]) -> None:
    answer = client.get(f"{P}/kinds", headers=admin)
    assert answer.status_code == 200, answer.text
    kinds = {k["kind"]: k for k in answer.json()["kinds"]}
    assert {"postgres", "mysql", "snowflake", "s3"} <= set(kinds)
    postgres = {f["name"]: f for f in kinds["postgres"]["fields"]}
    assert postgres["password"]["secret"] is True and postgres["host"]["required"] is True
    assert postgres["extra.sslmode"]["choices"] and postgres["port"]["default"] == 5432
    assert kinds["postgres"]["tunnel"] is True and kinds["postgres"]["conn_types"][0] == "postgres"
    assert kinds["mysql"]["table_form"] == "database.table" and kinds["s3"]["bucket"] is True


@pytest.mark.parametrize(
    ("which", "words"),
    [
        ("nohost", "no-such-host.invalid"),
        ("nodb", "does not exist"),
        ("tls", "SSL"),
    ],
)
def test_a_failed_test_is_ok_false_with_the_servers_message(
    client: Any, admin: dict[str, str], shop: dict[str, str], which: str, words: str
) -> None:
    answer = client.post(f"{P}/connections/{shop[which]}/test", json={"kind": "postgres"}, headers=admin)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ok"] is False and words in body["error"], body
    assert PASSWORD not in answer.text


def test_a_good_connection_tests_ok(client: Any, admin: dict[str, str], shop: dict[str, str]) -> None:
    answer = client.post(f"{P}/connections/{shop['ok']}/test", json={"kind": "postgres"}, headers=admin)
    assert answer.status_code == 200 and answer.json() == {"ok": True, "error": None, "tables": 3}


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", f"{P}/connections/no_such_conn/test", {"kind": "postgres"}),
        ("get", f"{P}/connections/no_such_conn/tables?kind=postgres", None),
        ("put", f"{P}/sources/nope", _source("x", name="nope")),
        ("get", f"{P}/sources/nope/config", None),
    ],
)
def test_unknown_connections_and_sources_are_404(
    client: Any, admin: dict[str, str], method: str, url: str, body: Any
) -> None:
    answer = call(client, method, url, body, admin)
    assert answer.status_code == 404, answer.text


def test_the_catalog_lists_keys_types_and_estimates(client: Any, admin: dict[str, str], shop: dict[str, str]) -> None:
    answer = client.get(f"{P}/connections/{shop['ok']}/tables", params={"kind": "postgres"}, headers=admin)
    assert answer.status_code == 200, answer.text
    tables = {t["name"]: t for t in answer.json()["tables"]}
    assert set(tables) == {"public.Orders", "public.lines", "public.recent"}
    orders = {c["name"]: c for c in tables["public.Orders"]["columns"]}
    assert tables["public.Orders"]["primary_key"] == ["Id"]
    assert orders["updatedAt"]["replication_key"] is True and orders["Id"]["replication_key"] is True
    assert orders["ref"]["replication_key"] is False and "'uuid'" in orders["ref"]["reason"]
    assert tables["public.lines"]["primary_key"] == ["order_id", "line"]
    assert tables["public.lines"]["rows_estimate"] == 1000
    assert tables["public.recent"]["type"] == "view" and tables["public.recent"]["rows_estimate"] is None


def test_a_source_is_created_and_reads_back_as_posted(
    client: Any, admin: dict[str, str], shop: dict[str, str], web_env: dict[str, Path]
) -> None:
    body = _source(shop["ok"], name="shop_new")
    answer = client.post(f"{P}/sources", json=body, headers=admin)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"name": "shop_new", "dag_id": "sync_shop_new", "file": "shop_new.yaml",
                             "resync": False, "resync_tables": []}  # fmt: skip
    path = web_env["sources"] / "shop_new.yaml"
    try:
        back = client.get(f"{P}/sources/shop_new/config", headers=admin).json()
        assert back["source"] == body and back["yaml"] == path.read_text()
        validate = subprocess.run([sys.executable, "-m", "warehouse_sources", "validate", str(web_env["sources"])],
                                  capture_output=True, text=True)  # fmt: skip
        assert validate.returncode == 0, validate.stdout + validate.stderr
        again = client.post(f"{P}/sources", json=body, headers=admin)
        assert again.status_code == 409 and "already exists" in again.json()["detail"]
    finally:
        path.unlink(missing_ok=True)


def test_a_synced_table_name_clash_is_409(client: Any, admin: dict[str, str], shop: dict[str, str]) -> None:
    body = _source(shop["ok"], name="shop_clash", table_prefix="billing_")
    body["tables"] = [{"name": "public.customers", "sync": "full_table"}]
    answer = client.post(f"{P}/sources", json=body, headers=admin)
    assert answer.status_code == 409, answer.text
    assert "billing_customers" in answer.json()["detail"] and "'billing'" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("change", "loc", "words"),
    [
        ({"schedule": "every now and then"}, ["schedule"], "every now and then"),
        ({"tables": [{"name": "public.lines", "sync": "sometimes"}]}, ["tables", 0, "sync"], "incremental"),
        ({"tables": [{"name": "public.lines", "sync": "full_table", "colour": 1}]}, ["tables", 0, "colour"],
         "unknown key"),
        ({"name": "Shop!"}, ["name"], "lowercase"),
    ],
)  # fmt: skip
def test_field_errors_are_422_with_their_locations(
    client: Any, admin: dict[str, str], shop: dict[str, str], change: dict[str, Any], loc: list[Any], words: str
) -> None:
    answer = client.post(f"{P}/sources", json={**_source(shop["ok"], name="shop_bad"), **change}, headers=admin)
    assert answer.status_code == 422, answer.text
    found = {tuple(d["loc"]): d["msg"] for d in answer.json()["detail"]}
    assert tuple(loc) in found and words in found[tuple(loc)], found


def test_a_refused_replication_key_type_is_422_naming_column_and_type(
    client: Any, admin: dict[str, str], shop: dict[str, str], web_env: dict[str, Path]
) -> None:
    body = _source(shop["ok"], name="shop_uuid")
    body["tables"] = [{"name": "public.Orders", "sync": "append_only", "replication_key": "ref"},
                      {"name": "public.nope", "sync": "full_table"}]  # fmt: skip
    answer = client.post(f"{P}/sources", json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    found = {tuple(d["loc"]): d["msg"] for d in answer.json()["detail"]}
    assert "'ref'" in found[("tables", 0, "replication_key")] and "'uuid'" in found[("tables", 0, "replication_key")]
    assert "public.nope" in found[("tables", 1, "name")]
    assert not (web_env["sources"] / "shop_uuid.yaml").exists()


COMMENTED = """\
# Shop: linked by hand first, edited through REST later.
name: shop_edit
kind: postgres
conn_id: {conn}
schedule: 1h    # hourly is enough
table_prefix: shop_edit_
tables:
  - name: public.Orders       # the big one
    sync: incremental
    replication_key: updatedAt
  - name: public.lines
    sync: full_table
"""


def test_an_edit_keeps_comments_and_says_a_resync_follows(
    client: Any, admin: dict[str, str], shop: dict[str, str], web_env: dict[str, Path]
) -> None:
    from airflow.models.variable import Variable

    path = web_env["sources"] / "shop_edit.yaml"
    path.write_text(COMMENTED.format(conn=shop["ok"]))
    try:
        body = client.get(f"{P}/sources/shop_edit/config", headers=admin).json()["source"]
        body["schedule"] = "6h"
        body["tables"][0]["replication_key"] = "Id"
        answer = client.put(f"{P}/sources/shop_edit", json=body, headers=admin)
        assert answer.status_code == 200, answer.text
        assert answer.json()["resync"] is True and answer.json()["resync_tables"] == ["shop_edit_Orders"]
        assert Variable.get(
            "warehouse_sources_resync.shop_edit.shop_edit_Orders", default_var=None
        )  # next run rebuilds
        text = path.read_text()
        assert "# Shop: linked by hand first" in text and "# the big one" in text
        assert "schedule: 6h" in text and "replication_key: Id" in text
        assert client.get(f"{P}/sources/shop_edit/config", headers=admin).json()["source"] == body
        renamed = client.put(f"{P}/sources/shop_edit", json={**body, "name": "other"}, headers=admin)
        assert renamed.status_code == 422 and renamed.json()["detail"][0]["loc"] == ["name"]
        unchanged = client.put(f"{P}/sources/shop_edit", json=body, headers=admin)
        assert unchanged.status_code == 200 and unchanged.json()["resync"] is False
    finally:
        path.unlink(missing_ok=True)
        Variable.delete("warehouse_sources_resync.shop_edit.shop_edit_Orders")


def test_a_read_only_sources_dir_answers_409_with_the_yaml(
    client: Any, admin: dict[str, str], shop: dict[str, str], web_env: dict[str, Path]
) -> None:
    folder = web_env["sources"]
    before = sorted(p.name for p in folder.iterdir())
    subprocess.run(["chattr", "+i", str(folder)], check=True)  # refused even to root
    try:
        answer = client.post(f"{P}/sources", json=_source(shop["ok"], name="shop_ro"), headers=admin)
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    assert answer.status_code == 409, answer.text
    assert "name: shop_ro" in answer.json()["yaml"] and answer.json()["file"] == "shop_ro.yaml"
    assert "not writable" in answer.json()["detail"]
    assert sorted(p.name for p in folder.iterdir()) == before


def test_a_bastion_is_tested_with_the_connection_and_its_refusal_named(
    client: Any, admin: dict[str, str], shop: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.ssh_support import SSHD, key_lines, keygen, running_bastion, ssh_conn

    if not SSHD.exists():
        pytest.skip("no sshd on this machine")
    keygen(tmp_path / "stranger")
    stranger = (tmp_path / "stranger").read_text()
    with running_bastion(tmp_path / "bastion") as bastion:
        monkeypatch.setenv("AIRFLOW_CONN_LINK_BASTION", ssh_conn(bastion))
        monkeypatch.setenv("AIRFLOW_CONN_LINK_STRANGER", ssh_conn(bastion, private_key=stranger))
        url = f"{P}/connections/{shop['ok']}/test"
        good = client.post(url, json={"kind": "postgres", "ssh_conn_id": "link_bastion"}, headers=admin)
        refused = client.post(url, json={"kind": "postgres", "ssh_conn_id": "link_stranger"}, headers=admin)
        tables = client.get(f"{P}/connections/{shop['ok']}/tables", headers=admin,
                            params={"kind": "postgres", "ssh_conn_id": "link_bastion"})  # fmt: skip
    assert good.json() == {"ok": True, "error": None, "tables": 3}, good.text
    assert refused.json()["ok"] is False and "refused the login" in refused.json()["error"], refused.text
    assert not [line for line in key_lines(stranger) + key_lines(bastion.user_key) if line in refused.text]
    assert tables.status_code == 200 and len(tables.json()["tables"]) == 3


def test_a_cookie_authenticated_save_must_be_same_origin_json(client: Any, admin: dict[str, str]) -> None:
    jwt = admin["Authorization"].removeprefix("Bearer ")
    answer = client.post(f"{P}/sources", content=b"name=x", cookies={"_token": jwt},
                         headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    client.cookies.clear()
    assert answer.status_code == 403 and "cross-site" in answer.json()["detail"]


def test_a_server_that_never_answers_costs_the_test_ten_seconds_at_most(
    client: Any, admin: dict[str, str], shop: dict[str, str]
) -> None:
    import socket
    import time

    silent = socket.socket()  # listens, so the TCP handshake completes, and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    conn_id = f"{shop['ok']}_silent"
    add_connection(conn_id, conn_type="postgres", host="127.0.0.1", port=silent.getsockname()[1], login="x", schema="x")
    try:
        started = time.monotonic()
        answer = client.post(f"{P}/connections/{conn_id}/test", json={"kind": "postgres"}, headers=admin)
        seconds = time.monotonic() - started
    finally:
        drop_connections(conn_id)
        silent.close()
    assert answer.status_code == 200 and answer.json()["ok"] is False, answer.text
    assert "no answer within 10 s" in answer.json()["error"]
    assert 9 < seconds < 13, seconds
