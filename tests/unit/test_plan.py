"""The plan: validated config -> DAG ids, tags, schedules and per-table settings (no Airflow)."""

from __future__ import annotations

import ast
import importlib.util
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from warehouse_sources.config.kinds import parse_source
from warehouse_sources.config.models import SourceConfig
from warehouse_sources.plan import SourcePlan, TablePlan, dag_id_of, plan_source, schedule_of


def make_source(**overrides: Any) -> SourceConfig:
    data: dict[str, Any] = {
        "name": "billing_db",
        "kind": "postgres",
        "conn_id": "billing_pg",
        "schedule": "6h",
        "table_prefix": "billing_",
        "tables": [
            {
                "name": "public.charges",
                "sync": "incremental",
                "replication_key": "updated_at",
                "primary_key": ["id", "region"],
                "lookback": "10m",
            },
            {"name": "public.audit_log", "sync": "append_only", "replication_key": "id"},
            {"name": "Sales.Plans", "enabled": False},
            {"name": "events", "sync": "incremental", "replication_key": "seq", "lookback": 50},
            {"name": "public.x", "synced_name": "Custom_Name"},
        ],
    }
    return parse_source(data | overrides)


@pytest.fixture
def plan() -> SourcePlan:
    return plan_source(make_source())


def test_dag_id_and_tags(plan: SourcePlan) -> None:
    assert plan.dag_id == "sync_billing_db" == dag_id_of("billing_db")
    assert {t.dag_id for t in plan.tables} == {plan.dag_id}
    assert plan.tags == ["warehouse-sources", "postgres"]
    assert (plan.name, plan.kind, plan.conn_id) == ("billing_db", "postgres", "billing_pg")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5m", timedelta(minutes=5)),
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("6h", timedelta(hours=6)),
        ("12h", timedelta(hours=12)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("30d", timedelta(days=30)),
    ],
)
def test_shorthand_schedules_become_timedeltas(text: str, expected: timedelta) -> None:
    assert schedule_of(text) == expected
    planned = plan_source(make_source(schedule=text))
    assert planned.schedule == expected
    assert planned.schedule_label == text


@pytest.mark.parametrize("cron", ["*/15 * * * *", "0 3 * * 1-5", "@daily"])
def test_cron_schedules_stay_strings(cron: str) -> None:
    planned = plan_source(make_source(schedule=cron))
    assert planned.schedule == cron
    assert isinstance(planned.schedule, str)
    assert planned.schedule_label == cron


@pytest.mark.parametrize(
    ("preset", "airflow_preset"),
    [
        ("@hourly", "@hourly"),
        ("@daily", "@daily"),
        ("@midnight", "@daily"),
        ("@weekly", "@weekly"),
        ("@monthly", "@monthly"),
        ("@quarterly", "@quarterly"),
        ("@yearly", "@yearly"),
        ("@annually", "@yearly"),
    ],
)
def test_presets_reach_airflow_as_its_own_presets_and_keep_their_label(preset: str, airflow_preset: str) -> None:
    planned = plan_source(make_source(schedule=preset))
    assert planned.schedule == airflow_preset
    assert planned.schedule_label == preset
    assert not planned.manual_only


@pytest.mark.parametrize("schedule", ["manual", None])
def test_manual_sources_have_no_airflow_schedule(schedule: str | None) -> None:
    planned = plan_source(make_source(schedule=schedule))
    assert planned.schedule is None
    assert planned.schedule_label == "manual"
    assert planned.manual_only


def test_lookbacks_become_what_the_engine_subtracts(plan: SourcePlan) -> None:
    longest = plan_source(
        make_source(tables=[{"name": "t", "sync": "incremental", "replication_key": "ts", "lookback": "3650d"}])
    )
    assert longest.tables[0].lookback == timedelta(days=3650)
    assert plan.tables[3].lookback == 50


def test_one_table_plan_per_table_in_order(plan: SourcePlan) -> None:
    assert [t.qualified_name for t in plan.tables] == [
        "public.charges",
        "public.audit_log",
        "Sales.Plans",
        "public.events",
        "public.x",
    ]
    assert all(t.source_name == "billing_db" for t in plan.tables)


def test_synced_names_are_prefix_plus_table_schema_dropped_case_kept(plan: SourcePlan) -> None:
    assert [t.synced_name for t in plan.tables] == [
        "billing_charges",
        "billing_audit_log",
        "billing_Plans",
        "billing_events",
        "Custom_Name",
    ]


def test_no_prefix_means_the_bare_table_name() -> None:
    planned = plan_source(make_source(table_prefix=""))
    assert planned.tables[0].synced_name == "charges"


def test_table_settings(plan: SourcePlan) -> None:
    charges, audit, plans, events, _ = plan.tables
    assert charges == TablePlan(
        source_name="billing_db",
        schema="public",
        table="charges",
        synced_name="billing_charges",
        method="incremental",
        replication_key="updated_at",
        primary_key=("id", "region"),
        lookback=timedelta(minutes=10),
        enabled=True,
    )
    assert (audit.method, audit.replication_key, audit.primary_key, audit.lookback) == ("append_only", "id", None, None)
    assert (plans.schema, plans.table, plans.method, plans.enabled) == ("Sales", "Plans", "full_table", False)
    assert events.lookback == 50


def test_plans_are_frozen(plan: SourcePlan) -> None:
    with pytest.raises(AttributeError):
        plan.tables[0].enabled = False  # type: ignore[misc]


@pytest.mark.parametrize(
    "module", ["warehouse_sources.plan", "warehouse_sources.config.models", "warehouse_sources.config.loader"]
)
def test_plan_and_config_layers_do_not_import_airflow(module: str) -> None:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] == "airflow"}
