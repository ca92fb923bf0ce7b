"""Deep verification: per-key-range checksums of the whole table on both sides, narrowed to where they differ.

The source's SQL (sources/sql/checksum.py) and DuckDB over the Delta table sum a hash of each row's
text per range of the first primary key column, in one snapshot of the source. Ranges that differ
are cut in 32 and compared again, until each is small (LEAF rows) or one key wide, so drift is found
and located without reading rows out of either side. A cursor table is compared at or below its
stored cursor (rows above it are the next sync's); tombstoned rows are not compared.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from warehouse_sources.engine import verify_sides as sides
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse import delta

if TYPE_CHECKING:
    from warehouse_sources.sources.base import SourceReader

SPLIT = 32  # ranges a differing range is cut into per round
LEAF = 256  # a differing range this small is reported as it is
MAX_ROUNDS = 8
MAX_RANGES = 256  # differing ranges narrowed at once; beyond that they are reported as they stand


@dataclass(frozen=True)
class Drift:
    """Key range [low, high) of the first key column (None: unbounded) and its rows on each side."""

    low: int | None
    high: int | None
    source_rows: int
    warehouse_rows: int

    def shown(self, key: str) -> str:
        low = "" if self.low is None else f"{self.low} <= "
        high = "" if self.high is None else f" < {self.high}"
        return f"{low}{key}{high} (source {self.source_rows:,} rows, warehouse {self.warehouse_rows:,})"


@dataclass
class DeepResult:
    synced_name: str
    key: str
    source_rows: int = 0
    warehouse_rows: int = 0
    drift: list[Drift] = field(default_factory=list)
    unchecked_columns: list[str] = field(default_factory=list)
    checked_at: str = ""
    seconds: float = 0.0
    problem: str = ""  # why the table could not be verified

    @property
    def ok(self) -> bool:
        return not self.drift and not self.problem

    def line(self) -> str:
        """The CLI's one line for this table."""
        if self.problem:
            return f"{self.synced_name}: not verified: {self.problem}"
        skipped = f"; columns not compared: {', '.join(self.unchecked_columns)}" if self.unchecked_columns else ""
        if self.ok:
            return f"{self.synced_name}: ok ({self.source_rows:,} rows, {self.seconds:.1f} s{skipped})"
        ranges = "; ".join(d.shown(self.key) for d in self.drift[:20])
        more = f"; and {len(self.drift) - 20} more ranges" if len(self.drift) > 20 else ""
        return (
            f"{self.synced_name}: drift in {len(self.drift)} key ranges: {ranges}{more} "
            f"(source {self.source_rows:,} rows, warehouse {self.warehouse_rows:,}{skipped})"
        )


def deep_verify(
    reader: SourceReader, plan: TablePlan, warehouse_uri: str, storage_options: dict[str, str] | None = None
) -> DeepResult:
    """Compare the table with its source, inside one snapshot of the source."""
    started = time.monotonic()
    table = delta.open_table(delta.table_uri(warehouse_uri, plan.synced_name), storage_options)
    reader.begin_snapshot()
    try:
        pair = sides.open_pair(reader, plan, table)
        key = pair.key if isinstance(pair, sides.Pair) else ""
        result = DeepResult(plan.synced_name, key, checked_at=datetime.now(UTC).isoformat())
        if isinstance(pair, str) or pair is None:
            result.problem = pair or "the warehouse table does not exist yet"
        else:
            result.unchecked_columns = pair.unchecked
            _narrow(pair, result)
    finally:
        reader.end_snapshot()
    result.seconds = time.monotonic() - started
    return result


def _narrow(pair: sides.Pair, result: DeepResult) -> None:
    """Whole-table sums first; then the differing ranges, cut smaller each round."""
    src, wh = pair.sums([], None)[0], pair.warehouse_sums([], None)[0]
    result.source_rows, result.warehouse_rows = src[0], wh[0]
    if src == wh:
        return
    span = pair.key_span()
    if span is None:  # no integer key to cut ranges on: the whole table is the range
        result.drift = [Drift(None, None, src[0], wh[0])]
        return
    pending = [(span[0], span[1] + 1)]
    for _ in range(MAX_ROUNDS):
        found = _round(pair, pending)
        small = [d for d in found if _is_leaf(d)]
        big = [d for d in found if not _is_leaf(d)]
        result.drift += small
        if not big:
            break
        if len(big) > MAX_RANGES:
            result.drift += big
            break
        pending = [(d.low, d.high) for d in big]  # type: ignore[misc]  # inner ranges are bounded
    else:
        result.drift += [Drift(lo, hi, -1, -1) for lo, hi in pending]
    result.drift.sort(key=lambda d: d.low if d.low is not None else -(2**63))


def _is_leaf(drift: Drift) -> bool:
    wide = drift.low is None or drift.high is None or drift.high - drift.low > 1
    return max(drift.source_rows, drift.warehouse_rows) <= LEAF or not wide


def _round(pair: sides.Pair, ranges: list[tuple[int, int]]) -> list[Drift]:
    """The sub-ranges of `ranges` whose sums differ."""
    cuts: set[int] = set()
    for first, end in ranges:
        step = max(1, -(-(end - first) // SPLIT))
        cuts.update(range(first, end, step))
        cuts.add(end)
    bounds = sorted(cuts)
    src, wh = pair.sums(bounds, ranges), pair.warehouse_sums(bounds, ranges)
    drift = []
    for i in range(1, len(bounds)):
        s, w = src[i], wh[i]
        if s != w:
            drift.append(Drift(bounds[i - 1], bounds[i], s[0], w[0]))
    for edge in (0, len(bounds)):  # keys outside every range: none, as the ranges span both sides' keys
        if src[edge] != wh[edge]:
            low: int | None = None if edge == 0 else bounds[-1]
            high: int | None = bounds[0] if edge == 0 else None
            drift.append(Drift(low, high, *_rows(src, wh, edge)))
    return drift


def _rows(src: list[tuple[int, int]], wh: list[tuple[int, int]], i: int) -> tuple[int, int]:
    return src[i][0], wh[i][0]


def as_record(result: DeepResult) -> dict[str, Any]:
    """The result as the Sources page and `verify_every` read it back (engine/verify_store.py)."""
    return {
        "checked_at": result.checked_at,
        "ok": result.ok,
        "key": result.key,
        "source_rows": result.source_rows,
        "warehouse_rows": result.warehouse_rows,
        "drift": [[d.low, d.high, d.source_rows, d.warehouse_rows] for d in result.drift],
        "unchecked_columns": result.unchecked_columns,
        "seconds": round(result.seconds, 3),
        "problem": result.problem,
        "line": result.line(),
    }
