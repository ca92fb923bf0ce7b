"""Split a primary key's range into the key ranges a chunked full load reads in parallel. Pure, no I/O.

The ranges are of equal key width between the key's smallest and largest value (integers, dates or
timestamps); a table whose keys cluster gets uneven chunks, as the README says. The conditions
together cover every row exactly once whatever the key's values: the first range also holds the
keys below the smallest seen and NULL keys, the last every key above its start, so rows inserted
while the chunks read land in one chunk, never in none or two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from warehouse_sources.warehouse.state import CursorValue

ONE_MICROSECOND = timedelta(microseconds=1)


def boundaries(low: CursorValue, high: CursorValue, parts: int) -> list[CursorValue]:
    """The starts of ranges 2..parts splitting [low, high] into `parts` ranges of (near) equal width;
    fewer where the range holds fewer distinct values than `parts` (a range is never empty of keys)."""
    if parts < 2:
        return []
    if isinstance(low, datetime) and isinstance(high, datetime):
        span = (high - low) // ONE_MICROSECOND + 1
        found: list[CursorValue] = [low + ONE_MICROSECOND * (span * i // parts) for i in range(1, parts)]
    elif isinstance(low, date) and isinstance(high, date) and not isinstance(low, datetime):
        days = (high - low).days + 1
        found = [low + timedelta(days=days * i // parts) for i in range(1, parts)]
    elif isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool):
        width = high - low + 1
        found = [low + width * i // parts for i in range(1, parts)]
    else:
        raise TypeError(f"cannot split a key range from {low!r} to {high!r}: integer, date or timestamp keys only")
    inner = [value for value in found if low < value <= high]  # type: ignore[operator]
    return sorted(set(inner))


def range_conditions(ident: str, literals: Sequence[str]) -> list[str]:
    """One SQL condition per range, given the quoted key `ident` and the ranges' starts as typed
    literals (from `boundaries`): the first range takes every key below the second's start and NULL
    keys, the last every key from its start on."""
    if not literals:
        return [""]
    first = f"NOT COALESCE({ident} >= {literals[0]}, FALSE)"
    middle = [f"{ident} >= {lo} AND {ident} < {hi}" for lo, hi in zip(literals, literals[1:], strict=False)]
    return [first, *middle, f"{ident} >= {literals[-1]}"]


def auto_parts(estimate: int | None, rows_per_chunk: int, most: int) -> int:
    """How many ranges `parallelism: auto` reads: one per `rows_per_chunk` of the catalog's row
    estimate, at most `most`; under 2 (a small table, or no estimate) the load is not split."""
    if not estimate or estimate <= 0:
        return 1
    return max(1, min(most, int(estimate) // rows_per_chunk))
