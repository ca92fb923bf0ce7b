"""The fuzzer's deep verification (issue 20): once per example, after its last sync.

When the model says the warehouse holds exactly what the source has where the deep check compares
(every row whose key a cursor holds at or below the cursor, or the whole table for full_table; live
rows only; values the type mapping stores as NULL compare as NULL), the check must say `ok`. In some examples a
drift is then planted in the Delta table behind the engine's back (a row removed, or a compared
value set to NULL, by rewriting the table with deltalake) and the check must find it, in a key
range holding the planted row's key, and the repair must make the table equal the source and the
model again. A table without a primary key must be reported as not verified, never as drift.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from tests.reliability.differential_oracle import Model
from tests.reliability.differential_source import SourceRow
from tests.reliability.differential_values import conform
from warehouse_sources.engine.verify_deep import DeepResult, deep_verify
from warehouse_sources.engine.verify_repair import repair
from warehouse_sources.engine.verify_sides import rendering_of
from warehouse_sources.plan import TablePlan

LOG = logging.getLogger("warehouse_sources.tests.fuzz.deep")
OK, NOT_EQUAL, PLANTED = "deep ok", "deep, table not equal to the source", "deep, drift planted: "


def shown(counts: Counter[str]) -> str:
    """The report's cell: tables verified ok; drifts planted (a row removed, a value set to NULL),
    each found, located and repaired."""
    return f"{counts[OK]}; row {counts[PLANTED + 'row']}, value {counts[PLANTED + 'value']}"


def exact(model: Model, rows: list[SourceRow]) -> bool:
    """Whether the model's warehouse equals the source where the deep check compares them."""
    spec = model.spec
    if not model.created:
        return False
    # With no cursor stored (no key a cursor holds was ever read) both sides are compared whole.
    key = spec.index(spec.key) if spec.key and model.cursor is not None else None
    types = [model.types.get(c.name, "") for c in spec.columns]
    compared = [r for r in rows if key is None or (r.key is not None and r.key <= model.cursor)]  # type: ignore[operator]
    source = Counter(conform(model._canon(r, model.as_text), types) for r in compared)
    if spec.method == "incremental":
        live = [v for k, v in model.by_key.items() if k not in model.marked]
    else:
        live = list(model.multiset.elements())
    warehouse = Counter(conform(r, types) for r in live if key is None or r[key] is not None)
    return source == warehouse


def check(
    reader: Any,
    plan: TablePlan,
    warehouse: str,
    model: Model,
    rows: list[SourceRow],
    data: st.DataObject,
    report: Callable[[str], str],
) -> Counter[str]:
    """Deep-verify the synced table; in some examples plant a drift and repair it."""
    counts: Counter[str] = Counter()
    found = deep_verify(reader, plan, warehouse)
    if not model.spec.pk:
        assert found.problem and "primary key" in found.problem, report(
            f"no key, expected not verified: {found.line()}"
        )
        return counts
    if not exact(model, rows):
        assert not found.problem, report(f"the deep verification could not run: {found.line()}")
        counts[NOT_EQUAL] += 1
        return counts
    assert found.ok, report(f"the deep verification of a table equal to the source says: {found.line()}")
    counts[OK] += 1
    uri = f"{warehouse}/{plan.synced_name}"
    if plan.method == "append_only" or data.draw(st.integers(0, 2), label="plant drift?") != 0:
        return counts
    planted = _plant(uri, model, data)
    if planted is None:
        return counts
    what, key = planted
    found = deep_verify(reader, plan, warehouse)
    assert not found.ok and found.drift, report(f"{what} in the warehouse, the deep verification says: {found.line()}")
    assert _located(found, key), report(f"{what}: key {key!r} is in none of the drifted ranges: {found.line()}")
    after = repair(reader, plan, found, warehouse, None, LOG)
    assert after.ok, report(f"{what}; after the repair the deep verification says: {after.line()}")
    problem = model.check(uri, types_too=True)
    assert not problem, report(f"{what}; after the repair the warehouse differs from the model:\n{problem}")
    counts[PLANTED + what.split(" ")[0]] += 1
    return counts


def _plant(uri: str, model: Model, data: st.DataObject) -> tuple[str, Any] | None:
    """Remove a live row, or set one of its compared values to NULL, by rewriting the Delta table;
    (what was done, the row's first key value), or None when there is no live row to take."""
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    spec = model.spec
    table = DeltaTable(uri)
    arrow = table.to_pyarrow_table()
    live = pa.array([True] * arrow.num_rows, pa.bool_())
    if "_ws_deleted_at" in arrow.column_names:
        live = arrow.column("_ws_deleted_at").is_null()
    if spec.key:
        live = pa.compute.and_(live, arrow.column(spec.key).is_valid())
    candidates = [i for i, ok in enumerate(live.to_pylist()) if ok]
    if not candidates:
        return None
    index = data.draw(st.sampled_from(candidates), label="drifted row")
    keyed = {spec.key, *spec.pk}
    changeable = [
        f.name
        for f in arrow.schema
        if f.name not in keyed and not f.name.startswith("_ws_") and rendering_of(f.type) is not None
    ]
    changeable = [n for n in changeable if arrow.column(n)[index].is_valid]
    first_key = arrow.column(spec.pk[0])[index].as_py()
    change: bool = bool(changeable) and data.draw(st.booleans(), label="change a value?")
    if change:
        name = data.draw(st.sampled_from(changeable), label="value set to NULL")
        column = arrow.column(name).to_pylist()
        column[index] = None
        arrow = arrow.set_column(
            arrow.schema.get_field_index(name), name, pa.array(column, arrow.schema.field(name).type)
        )
        what = f"value of {name!r} set to NULL in the row with key {first_key!r}"
    else:
        keep = pa.array([i != index for i in range(arrow.num_rows)])
        arrow = arrow.filter(keep)
        what = f"row with key {first_key!r} removed"
    write_deltalake(uri, arrow, mode="overwrite", schema_mode=None)
    return what, first_key


def _located(found: DeepResult, key: Any) -> bool:
    """Whether a drifted range holds `key` (any range when the key is not an integer)."""
    if not isinstance(key, int) or isinstance(key, bool):
        return bool(found.drift)
    return any((d.low is None or d.low <= key) and (d.high is None or key < d.high) for d in found.drift)
