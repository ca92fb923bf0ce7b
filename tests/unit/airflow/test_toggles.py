"""The stored table switches and delete marker, and how a task obeys them."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from warehouse_sources.airflow import toggles
from warehouse_sources.shared.toggles import ERROR_XCOM_KEY, Deletion, SourceToggles, Switch, dump_toggles, load_toggles


def test_the_ui_switch_overrides_the_yaml_both_ways() -> None:
    stored = SourceToggles().with_switch("a", Switch(False, "ann", "2025-01-01T00:00:00+00:00"))
    stored = stored.with_switch("b", Switch(True, "bob", "2025-01-02T00:00:00+00:00"))
    assert stored.enabled("a", yaml_enabled=True) == (False, "ui")
    assert stored.enabled("b", yaml_enabled=False) == (True, "ui")
    assert stored.enabled("c", yaml_enabled=False) == (False, "yaml")


def test_stored_shape_round_trips() -> None:
    stored = SourceToggles(tables={"a": Switch(False, "ann", "t1")}, deleted=Deletion("deleted", "ann", "t2", True))
    assert load_toggles(dump_toggles(stored)) == stored
    assert load_toggles(None) == SourceToggles()


def test_skip_reason_names_who_and_when() -> None:
    off = SourceToggles().with_switch("s_a", Switch(False, "ann", "2025-01-01T00:00:00+00:00"))
    reason = toggles.skip_reason("s", "s_a", "public.a", True, off)
    assert reason is not None and "ann" in reason and "2025-01-01T00:00:00+00:00" in reason
    assert toggles.skip_reason("s", "s_b", "public.b", True, off) is None
    assert "enabled: false" in (toggles.skip_reason("s", "s_b", "public.b", False, off) or "")
    gone = SourceToggles(deleted=Deletion("deleted", "ann", "t", False))
    assert "deleted by ann" in (toggles.skip_reason("s", "s_b", "public.b", True, gone) or "")


def _operator(enabled: bool = True):  # noqa: ANN202
    from warehouse_sources.airflow.operators import FullTableSyncOperator
    from warehouse_sources.config.kinds import parse_source
    from warehouse_sources.plan import plan_source

    table = {"name": "public.a", "synced_name": "s_a", "enabled": enabled}
    plan = plan_source(parse_source({"name": "s", "kind": "postgres", "conn_id": "nowhere", "tables": [table]}))
    return FullTableSyncOperator(task_id="s_a", source=plan, table=plan.tables[0])


def test_a_switched_off_table_skips_with_who_and_when_in_the_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    stored = SourceToggles().with_switch("s_a", Switch(False, "ann", "2025-01-01T00:00:00+00:00"))
    monkeypatch.setattr(toggles, "read_for_task", lambda name: stored if name == "s" else SourceToggles())
    operator = _operator()
    monkeypatch.setattr(operator, "_sync", lambda *a: pytest.fail("a disabled table must not sync"))
    context = {"dag_run": SimpleNamespace(conf={}, run_id="r"), "ti": None}
    with caplog.at_level(logging.INFO), pytest.raises(AirflowSkipException, match="disabled by ann at 2025-01-01"):
        operator.execute(context)


def test_a_switched_on_table_syncs_even_when_the_yaml_disables_it(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = SourceToggles().with_switch("s_a", Switch(True, "ann", "t"))
    monkeypatch.setattr(toggles, "read_for_task", lambda name: stored)
    operator = _operator(enabled=False)
    monkeypatch.setattr(operator, "_sync", lambda full_refresh, run_id: {"rows": 1})
    assert operator.execute({"dag_run": SimpleNamespace(conf={}, run_id="r"), "ti": None}) == {"rows": 1}


def test_a_failure_leaves_its_first_line_as_an_xcom(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toggles, "read_for_task", lambda name: SourceToggles())
    operator = _operator()

    def boom(full_refresh: bool, run_id: str) -> dict[str, object]:
        raise RuntimeError("cannot reach the source\ndetails on line two")

    pushed: dict[str, object] = {}
    monkeypatch.setattr(operator, "_sync", boom)
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.update({key: value}))
    with pytest.raises(RuntimeError):
        operator.execute({"dag_run": SimpleNamespace(conf={}, run_id="r"), "ti": ti})
    assert pushed == {ERROR_XCOM_KEY: "cannot reach the source"}


def test_a_task_reads_the_switch_through_the_task_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = SourceToggles().with_switch("s_a", Switch(False, "ann", "t"))
    monkeypatch.setenv("AIRFLOW_VAR_WAREHOUSE_SOURCES.S", dump_toggles(stored))
    assert toggles.read_for_task("s") == stored
