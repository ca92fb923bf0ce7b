"""The schedule each source's DAG gets: shorthands, Airflow's presets, crons and manual only."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from warehouse_sources.airflow.factory import build_dags


def dag_for(tmp_path: Path, schedule: str) -> Any:
    (tmp_path / "s.yaml").write_text(
        f"name: s\nkind: postgres\nconn_id: pg\nschedule: {schedule}\ntables:\n  - name: t\n"
    )
    dags = build_dags(tmp_path)
    assert list(dags) == ["sync_s"], dags
    return dags["sync_s"]


@pytest.mark.parametrize("schedule", ["manual", "null"])
def test_a_manual_source_has_no_schedule_and_says_manual_only(tmp_path: Path, schedule: str) -> None:
    from airflow.sdk.definitions.timetables.simple import NullTimetable

    dag = dag_for(tmp_path, schedule)
    assert dag.schedule is None
    assert isinstance(dag.timetable, NullTimetable)
    assert dag.description.endswith("(manual only)")
    assert "manual only: runs when triggered, never on a schedule" in dag.doc_md


@pytest.mark.parametrize(
    ("schedule", "cron"),
    [
        ("'@quarterly'", "0 0 1 */3 *"),
        ("'@annually'", "0 0 1 1 *"),
        ("'@midnight'", "0 0 * * *"),
        ("'0 3 * * 1-5'", "0 3 * * 1-5"),
    ],
)
def test_presets_and_crons_become_cron_timetables(tmp_path: Path, schedule: str, cron: str) -> None:
    dag = dag_for(tmp_path, schedule)
    assert dag.timetable.expression == cron
    assert f"on the schedule `{schedule.strip(chr(39))}` (UTC)" in dag.doc_md
    assert "manual" not in dag.description


def test_a_shorthand_is_every_n(tmp_path: Path) -> None:
    dag = dag_for(tmp_path, "6h")
    assert dag.schedule == timedelta(hours=6)
    assert "every 6h" in dag.doc_md
