"""The tasks of a table with `parallelism`: a plan, mapped key-range loads, then the table's own task.

`<synced name>.chunk_plan` decides per run (engine/chunk_plan.py): on a full load it returns one entry
per key range, and `<synced name>.chunk` is mapped over them, one task instance per range, each
free to run on any worker and retried alone; otherwise it returns none, the mapped task is skipped
and the table's task syncs as usual. The table's task (id: the synced name, as for every table)
runs once its upstreams succeeded or were skipped (`none_failed`), so a range that failed for good
leaves the table and its cursor as they were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from warehouse_sources.airflow.operators import TableTask
from warehouse_sources.plan import SourcePlan, TablePlan

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator

TABLE_TRIGGER_RULE = "none_failed"  # the table's task: also after a plan that found no full load to split


class ChunkPlanOperator(TableTask):
    """Whether this run is a full load to split, and its key ranges (an empty list: it is not)."""

    ui_color = "#fdf3e8"

    def execute(self, context: Any) -> list[dict[str, Any]]:
        from warehouse_sources.engine.chunk_plan import may_be_full_load, plan_load
        from warehouse_sources.shared import resync

        dag_run = context.get("dag_run")
        full_refresh = self._this_run(getattr(dag_run, "conf", None))
        run_id = getattr(dag_run, "run_id", "") or ""

        def plan() -> list[dict[str, Any]]:
            request = self._request(full_refresh or resync.requested(self.table_plan), run_id)
            if not may_be_full_load(request):
                self.log.info("%s: reads from its stored cursor this run: no ranges", self.table_plan.synced_name)
                return []
            with self.open_reader() as reader:
                return plan_load(reader, request, self.log)

        return self._failing_for_good(context, plan)


class ChunkLoadOperator(TableTask):
    """One key range of a full load, staged as Parquet files; its XCom is what the table's commit adds."""

    ui_color = "#fdf3e8"

    def __init__(self, *, source: SourcePlan, table: TablePlan, chunk: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(source=source, table=table, **kwargs)
        self.chunk = chunk

    def execute(self, context: Any) -> dict[str, Any]:
        from warehouse_sources.engine.chunks import load_chunk

        run_id = getattr(context.get("dag_run"), "run_id", "") or ""

        def load() -> dict[str, Any]:
            request = self._request(False, run_id)
            with self.open_reader() as reader:
                return load_chunk(reader, request, self.chunk, self.log)

        return self._failing_for_good(context, load)


def add_chunk_tasks(source: SourcePlan, table: TablePlan, table_task: BaseOperator) -> None:
    """The plan and the mapped range loads upstream of `table_task` (built with TABLE_TRIGGER_RULE)."""
    planner = ChunkPlanOperator(task_id=table.chunk_plan_task_id, source=source, table=table)
    loads = ChunkLoadOperator.partial(task_id=table.chunk_task_id, source=source, table=table).expand(
        chunk=planner.output
    )
    planner >> loads >> table_task


def loaded_ranges(table: TablePlan, planned: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What each planned range's task staged, in range order (a range without XCom is left out, and
    the commit refuses the load)."""
    from airflow.sdk import get_current_context

    found = get_current_context()["ti"].xcom_pull(task_ids=table.chunk_task_id, map_indexes=list(range(len(planned))))
    return [chunk for chunk in (found or []) if chunk]
