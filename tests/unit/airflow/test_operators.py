"""The sync operators take the plans whole and open the reader their kind's registry entry names."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from warehouse_sources.airflow.operators import OPERATORS, FullTableSyncOperator, IncrementalSyncOperator
from warehouse_sources.config.kinds import parse_source
from warehouse_sources.plan import SourcePlan, plan_source


def make_plan(**source: Any) -> SourcePlan:
    data = {"name": "s", "kind": "postgres", "conn_id": "nowhere", "tables": [{"name": "public.a"}]}
    return plan_source(parse_source(data | source))


def test_one_operator_class_per_method_named_for_it() -> None:
    assert {m: op.__name__ for m, op in OPERATORS.items()} == {
        "incremental": "IncrementalSyncOperator",
        "append_only": "AppendOnlySyncOperator",
        "full_table": "FullTableSyncOperator",
    }


def test_an_operator_refuses_a_table_of_another_method() -> None:
    plan = make_plan()
    with pytest.raises(ValueError, match="IncrementalSyncOperator syncs incremental tables; public.a is full_table"):
        IncrementalSyncOperator(task_id="a", source=plan, table=plan.tables[0])


def test_an_unknown_kind_fails_for_good_listing_the_kinds_and_is_never_read_as_postgres() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    plan = replace(make_plan(), kind="oracle")
    operator = FullTableSyncOperator(task_id="a", source=plan, table=plan.tables[0])
    with pytest.raises(
        AirflowFailException, match="source 's': 'oracle' is not a source kind; write one of: 'postgres'"
    ):
        operator.open_reader()


def test_a_missing_connection_fails_for_good_naming_source_and_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.delenv("AIRFLOW_CONN_NOWHERE", raising=False)
    plan = make_plan()
    operator = FullTableSyncOperator(task_id="a", source=plan, table=plan.tables[0])
    with pytest.raises(AirflowFailException, match="source 's': Airflow connection 'nowhere' is not defined"):
        operator.open_reader()
