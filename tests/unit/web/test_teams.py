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
def multi_team() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW__CORE__MULTI_TEAM", "True")
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
    assert [t["name"] for t in client.get(f"{P}/tables", headers=red).json()["tables"]] == ["crm_deals"]
    blue = _headers("bo", "blue")
    assert [s["name"] for s in client.get(f"{P}/sources", headers=blue).json()["sources"]] == ["billing"]
    assert [t["name"] for t in client.get(f"{P}/tables", headers=blue).json()["tables"]] == ["billing_plans"]


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
    assert "events" not in [
        t["name"] for t in client.get(f"{P}/tables", headers=_headers("bo", "blue")).json()["tables"]
    ]
    tables = client.get(f"{P}/tables", headers=_headers("ada", "red", role="admin")).json()["tables"]
    assert sorted(t["name"] for t in tables) == ["billing_plans", "crm_deals", "events"]
