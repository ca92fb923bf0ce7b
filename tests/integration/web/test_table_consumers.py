"""The Sources page's "Used by" (issue 22): per table, the DAGs scheduled on its asset that the
user may read. The repository's example downstream DAG (dags/) is scheduled on billing_charges."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("airflow_state_restored")
P = "/warehouse-sources/api"
DOWNSTREAM = "example_billing_charges_downstream"


@pytest.fixture(scope="module", autouse=True)
def multi_team() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW__CORE__MULTI_TEAM", "True")
        yield


def _used_by(client: Any, headers: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    answer = client.get(f"{P}/sources/billing", headers=headers)
    assert answer.status_code == 200, answer.text
    return {t["synced_name"]: t["used_by"] for t in answer.json()["tables"]}


def _headers(name: str, team: str, role: str = "user") -> dict[str, str]:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    user = SimpleAuthManagerUser(username=name, role=role, teams=[team])
    return {"Authorization": f"Bearer {get_auth_manager().generate_jwt(user)}"}


def test_a_table_lists_the_dags_scheduled_on_its_asset(client: Any, admin: dict[str, str]) -> None:
    used_by = _used_by(client, admin)
    assert used_by["billing_charges"] == [{"dag_id": DOWNSTREAM, "url": f"dags/{DOWNSTREAM}"}]
    assert used_by["billing_plans"] == [] and used_by["billing_customers"] == []


@pytest.fixture
def downstream_of_team_red(client: Any) -> Iterator[None]:
    """sync_billing in team blue's bundle, the downstream DAG in team red's."""
    from airflow.models.dag import DagModel, clear_team_name_cache
    from airflow.models.dagbundle import DagBundleModel
    from airflow.models.team import Team
    from airflow.utils.session import create_session
    from sqlalchemy import update

    moved = {"blue": "sync_billing", "red": DOWNSTREAM}
    with create_session() as session:
        before = {d.dag_id: d.bundle_name for d in session.query(DagModel).filter(DagModel.dag_id.in_(moved.values()))}
        for team, dag_id in moved.items():
            bundle = DagBundleModel(name=f"consumers_{team}")
            bundle.teams = [Team(name=f"c_{team}")]
            session.add(bundle)
            session.flush()
            session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(bundle_name=bundle.name))
    clear_team_name_cache()
    yield
    with create_session() as session:
        for dag_id, bundle_name in before.items():
            session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(bundle_name=bundle_name))
        session.flush()
        for team in moved:
            session.delete(session.get(DagBundleModel, f"consumers_{team}"))
            session.query(Team).filter_by(name=f"c_{team}").delete()
    clear_team_name_cache()


def test_a_consumer_the_user_may_not_read_is_left_out(client: Any, downstream_of_team_red: None) -> None:
    assert _used_by(client, _headers("bo", "c_blue"))["billing_charges"] == []
    shown = _used_by(client, _headers("ada", "c_red", role="admin"))["billing_charges"]
    assert [d["dag_id"] for d in shown] == [DOWNSTREAM]
