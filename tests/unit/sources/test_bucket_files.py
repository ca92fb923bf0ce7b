"""Which files a run without a replication key reads, and how the loaded-file state stays bounded
(engine/files.py)."""

from __future__ import annotations

from dataclasses import dataclass

from warehouse_sources.engine.files import LoadedFiles, plan_files


@dataclass(frozen=True)
class F:
    rel: str
    size: int
    mtime_ns: int


def test_first_run_reads_everything_and_remembers_it() -> None:
    plan = plan_files([F("a", 1, 10), F("b", 2, 20)], None, reload_changed=False)
    assert plan.read == ["a", "b"] and plan.loaded.recent == {"a": (1, 10), "b": (2, 20)}


def test_new_changed_and_deleted_files() -> None:
    before = LoadedFiles({"a": (1, 10), "b": (2, 20), "gone": (3, 5)})
    listed = [F("a", 1, 10), F("b", 9, 30), F("c", 4, 40)]
    plan = plan_files(listed, before, reload_changed=False)
    assert (plan.read, plan.new, plan.changed, plan.deleted) == (["c"], ["c"], ["b"], ["gone"])
    assert plan.loaded.recent == {"a": (1, 10), "b": (2, 20), "c": (4, 40)}  # b keeps its old fingerprint: warned again
    reload = plan_files(listed, before, reload_changed=True)
    assert reload.read == ["b", "c"] and reload.loaded.recent["b"] == (9, 30)


def test_the_state_keeps_the_newest_files_and_a_watermark_for_the_rest() -> None:
    listed = [F(f"f{i}", 1, i) for i in range(10)]
    plan = plan_files(listed, None, reload_changed=False, limit=4)
    assert sorted(plan.loaded.recent) == ["f6", "f7", "f8", "f9"] and plan.loaded.watermark_ns == 5
    again = plan_files([*listed, F("late", 1, 3), F("new", 1, 11)], plan.loaded, reload_changed=False, limit=4)
    assert again.read == ["new"]  # f0-f5 are under the watermark: taken as loaded
    assert again.below_watermark == ["f0", "f1", "f2", "f3", "f4", "f5", "late"]
    assert sorted(again.loaded.recent) == ["f7", "f8", "f9", "new"] and again.loaded.watermark_ns == 6


def test_state_round_trips_through_the_commit_extra() -> None:
    state = LoadedFiles({"x/a.csv": (3, 7)}, 5)
    assert LoadedFiles.from_extra(state.to_extra()) == state
    assert LoadedFiles.from_extra({}) == LoadedFiles()
