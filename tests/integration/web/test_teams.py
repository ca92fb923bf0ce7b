"""Multi-team deployments: every route checks the DAG's team the way Airflow's own routes do.

With `[core] multi_team = True` a DAG belongs to the team of its bundle, and the auth manager
only checks teams when the request names one. Here `sync_billing` is team blue's and `sync_crm`
team red's; a red user must see and touch only crm, as Airflow's API would let them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("airflow_state_restored")
P = "/warehouse-sources/api"
BILLING_ACTIONS = [
    ("GET", f"{P}/sources/billing", None),
    ("POST", f"{P}/sources/billing/sync", {}),
    ("POST", f"{P}/sources/billing/pause", {}),
    ("POST", f"{P}/sources/billing/unpause", {}),
    ("DELETE", f"{P}/sources/billing", None),
    ("PATCH", f"{P}/sources/billing/tables/billing_plans", {"enabled": False}),
]


@pytest.fixture(scope="module", autouse=True)
def multi_team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Teams on, and one saved view, over billing_plans (team blue's)."""
    views = tmp_path_factory.mktemp("views")
    (views / "plan_ids.sql").write_text("SELECT id FROM billing_plans\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW__CORE__MULTI_TEAM", "True")
        mp.setenv("AIRFLOW__WAREHOUSE_SOURCES__VIEWS_DIR", str(views))
        yield


@pytest.fixture(scope="module")
def teams(client: Any, web_env: dict[str, Path]) -> Iterator[None]:
    """Bundles of teams blue and red, owning sync_billing and sync_crm (what a two-team bundle config records)."""
    from airflow.models.dag import DagModel
    from airflow.models.dagbundle import DagBundleModel
    from airflow.models.team import Team
    from airflow.utils.session import create_session
    from sqlalchemy import update

    with create_session() as session:
        before = {d.dag_id: d.bundle_name for d in session.query(DagModel).filter(DagModel.dag_id.like("sync_%"))}
        for team, dag_id in (("blue", "sync_billing"), ("red", "sync_crm")):
            bundle = DagBundleModel(name=f"bundle_{team}")
            bundle.teams = [Team(name=team)]
            session.add(bundle)
            session.flush()
            session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(bundle_name=bundle.name))
    _forget_team_names()
    for table in ("billing_plans", "crm_deals", "events"):
        _write_delta(web_env["warehouse"] / table)
    (web_env["sources"] / "billing_copy.yaml").write_text((web_env["sources"] / "billing.yaml").read_text())
    (web_env["sources"] / "garbage.yaml").write_text("- not a mapping\n")
    yield
    with create_session() as session:
        for dag_id, bundle_name in before.items():
            session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(bundle_name=bundle_name))
        session.flush()
        for team in ("blue", "red"):
            session.delete(session.get(DagBundleModel, f"bundle_{team}"))
            session.query(Team).filter_by(name=team).delete()
    _forget_team_names()


def _forget_team_names() -> None:
    """Airflow caches each DAG's team for a while; this module changes them under it."""
    from airflow.models.dag import clear_team_name_cache

    clear_team_name_cache()


def _write_delta(path: Path) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    write_deltalake(str(path), pa.table({"id": [1, 2]}))


def _headers(name: str, team: str, role: str = "user") -> dict[str, str]:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    user = SimpleAuthManagerUser(username=name, role=role, teams=[team])
    return {"Authorization": f"Bearer {get_auth_manager().generate_jwt(user)}"}


@pytest.mark.parametrize(("method", "url", "body"), BILLING_ACTIONS)
def test_a_user_of_another_team_gets_403_on_every_route_of_the_source(
    client: Any, teams: None, method: str, url: str, body: Any
) -> None:
    answer = client.request(method, url, json=body, headers=_headers("rosa", "red"))
    assert answer.status_code == 403, answer.text
    assert "sync_billing" in answer.json()["detail"]


def test_lists_show_only_the_teams_sources_and_tables(client: Any, teams: None) -> None:
    red = _headers("rosa", "red")
    assert [s["name"] for s in client.get(f"{P}/sources", headers=red).json()["sources"]] == ["crm"]
    assert _names(client.get(f"{P}/tables", headers=red)) == ["crm_deals"]
    blue = _headers("bo", "blue")
    assert [s["name"] for s in client.get(f"{P}/sources", headers=blue).json()["sources"]] == ["billing"]
    assert _names(client.get(f"{P}/tables", headers=blue)) == ["billing_plans", "plan_ids"]


def test_a_user_acts_on_their_own_teams_source(client: Any, teams: None) -> None:
    red = _headers("rosa", "red")
    assert client.get(f"{P}/sources/crm", headers=red).status_code == 200
    assert client.post(f"{P}/sources/crm/pause", headers=red).status_code == 200
    assert client.post(f"{P}/sources/crm/unpause", headers=red).status_code == 200


def test_file_problems_are_shown_to_readers_of_the_dag_they_name(client: Any, teams: None, web_env: Any) -> None:
    def warnings(headers: dict[str, str]) -> list[str]:
        return list(client.get(f"{P}/sources", headers=headers).json()["warnings"])

    assert warnings(_headers("rosa", "red")) == []
    blue = warnings(_headers("bo", "blue"))
    assert blue[0].startswith("billing_copy.yaml: name: source 'billing' is already defined in billing.yaml")
    assert all(w.startswith("billing_copy.yaml: ") for w in blue), blue
    everything = warnings(_headers("ada", "red", role="admin"))
    assert everything == blue + [
        "garbage.yaml: (top level): file is list; expected a mapping with name, kind, conn_id, tables"
    ]
    assert not any(str(web_env["sources"]) in w for w in everything), "no server paths"


def test_tables_no_source_owns_are_for_admins_only(client: Any, teams: None) -> None:
    assert "events" not in _names(client.get(f"{P}/tables", headers=_headers("bo", "blue")))
    tables = _names(client.get(f"{P}/tables", headers=_headers("ada", "red", role="admin")))
    assert sorted(tables) == ["billing_plans", "crm_deals", "events", "plan_ids"]


def _names(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [t["name"] for t in answer.json()["tables"]]


def test_views_are_listed_with_their_columns_for_readers_of_their_tables(client: Any, teams: None) -> None:
    blue = {t["name"]: t for t in client.get(f"{P}/tables", headers=_headers("bo", "blue")).json()["tables"]}
    assert blue["plan_ids"] == {"name": "plan_ids", "kind": "view", "source": None, "version": None,
                                "columns": [{"name": "id", "type": "BIGINT"}]}  # fmt: skip
    assert blue["billing_plans"]["kind"] == "table"


def _query(client: Any, headers: dict[str, str], sql: str) -> Any:
    return client.post(f"{P}/query", json={"sql": sql}, headers=headers)


@pytest.mark.parametrize(
    ("sql", "table"),
    [
        ("SELECT * FROM billing_plans", "billing_plans"),
        ("SELECT * FROM crm_deals JOIN billing_plans USING (id)", "billing_plans"),
        ("SELECT * FROM plan_ids", "billing_plans"),  # a view follows the tables it reads
        ("SELECT * FROM as_of('billing_plans', 0)", "billing_plans"),
        ("SELECT * FROM events", "events"),  # no source owns it here: admins only
    ],
)
def test_a_query_reading_a_table_of_another_team_is_403_naming_it(
    client: Any, teams: None, sql: str, table: str
) -> None:
    answer = _query(client, _headers("rosa", "red"), sql)
    assert answer.status_code == 403, answer.text
    assert f"may not read table {table!r}" in answer.json()["detail"]


def test_a_query_reads_the_users_own_tables_and_admins_read_all(client: Any, teams: None) -> None:
    assert _query(client, _headers("rosa", "red"), "SELECT count(*) FROM crm_deals").json()["rows"] == [[2]]
    assert _query(client, _headers("bo", "blue"), "SELECT count(*) FROM plan_ids").json()["rows"] == [[2]]
    admin = _headers("ada", "red", role="admin")
    answer = _query(client, admin, "SELECT count(*) FROM events JOIN billing_plans USING (id)")
    assert answer.json()["rows"] == [[2]], answer.text
